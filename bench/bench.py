"""bench.py: repcollapse beside the code a researcher would otherwise write
(bench/references.py: PyTorch on the CPU and NumPy), in one run, on the same
problems. Run it through bench/run.sh, which builds everything first.

  (a) gd time per step at N ~ 10^6, K = 100, d = 64: f64 and f32, 1 and 2
      threads; the fraction of the memory bandwidth a STREAM triad reaches
      (bench/stream.c) achieved from the bytes a step must move;
  (b) time to reach t = 10 / slow_rate: the `exact` integrator against gd at
      its largest stable step (dt just below 2 / fast_rate);
  (c) the exact spectrum at N ~ 10^6, K = 100;
  (d) siam-sg (docs/model.md section 3): gd per step and rk45 per unit of simulated
      time at N ~ 10^5, d = 64, against PyTorch references of the same gd
      step; the `reduced` integrator (cost independent of N) at N ~ 10^4,
      10^5 and 10^6;
  (e) the teacher-student gd step (N = 20000, D = 512, d = 64, K = 10,
      bench/ts_bench.c): its dense products' flops over this machine's
      measured dgemm / sgemm peak (bench/gemm_peak.c);
  (f) the metrics of one recorded time at N ~ 10^6 against their roofline,
      the exact state's cost and a PyTorch peer (torch.cdist).
Every path's roofline is measured in the same run: max(its GEMM flops / the
dgemm rate measured at its own tile shapes (bench/shape_gemm.c), its bytes /
the measured stream bandwidth). Before timing, every reference is checked against repcollapse's own gd
trajectory on a small problem. Every figure is printed and written, with the
machine and the commit, to bench/RESULTS.md."""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import references as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def say(*a):
    print(*a, flush=True)


def machine():
    lscpu = sh(["lscpu"])
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    commit = sh(["git", "-C", ROOT, "rev-parse", "HEAD"]).strip()
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).strip() != ""
    import torch
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "numpy": np.__version__, "torch": torch.__version__, "python": platform.python_version(),
            "load_at_start": os.getloadavg()[0]}


def stream(exe, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    return json.loads(sh([exe, str(1 << 26), "10"], env=env))


def rc_json(cli, args):
    return json.loads(sh([cli] + args))


def run_wall(cli, args, tmp, threads=None):
    """`repcollapse run ARGS`: its summary.json's wall_seconds (data generation,
    set-up, integration and the metrics at the recorded times; not the writing
    of the outputs). threads: OPENBLAS_NUM_THREADS (term models run their
    dense products through BLAS; the rest of their step is serial)."""
    out = tempfile.mkdtemp(prefix="run-", dir=tmp)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads)) if threads else None
    sh([cli, "run"] + args + ["--quiet", "--out", out], env=env)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    sh(["rm", "-rf", out])
    return summary["wall_seconds"], summary


def time_steps(make, steps, warmup=1):
    """Median and min seconds per step of a reference, after `warmup` untimed steps."""
    g = make()
    for _ in range(warmup):
        g.step()
    t = []
    for _ in range(steps):
        t0 = time.perf_counter()
        g.step()
        t.append(time.perf_counter() - t0)
    return statistics.median(t), min(t)


def check_references(cli, tmp):
    """Each reference against repcollapse's gd snapshots on a small problem."""
    data = ["--classes", "5", "--per-class", "200", "--frustration", "0.1", "--pattern", "random", "--seed", "3"]
    dt, steps, d = 0.5, 30, 8
    out = os.path.join(tmp, "check")
    sh([cli, "run"] + data + ["--dim", str(d), "--integrator", "gd", "--dt", str(dt), "--steps", str(steps),
                              "--times", f"0,{dt * steps}", "--snapshots", "--quiet", "--out", out])
    obs = os.path.join(tmp, "check.csv")
    sh([cli, "data"] + data + ["--out", obs])
    import h5py
    with h5py.File(os.path.join(out, "snapshots.h5")) as f:
        x, y = f["samples"][()], f["labels"][()]
    i, c, w, N, K = ref.load_observations(obs)
    sx, sy = ref.rates(i, c, w, N, K)
    scale = max(np.abs(x[0]).max(), np.abs(y[0]).max())
    rows = []
    for name, cls in (("PyTorch", ref.TorchGD), ("PyTorch, preallocated", ref.TorchGDPrealloc), ("NumPy", ref.NumpyGD)):
        for dtype, tol in (("float64", 1e-12), ("float32", 1e-4)):
            g = cls(i, c, w, x[0], y[0], sx, sy, dt, dtype)
            for _ in range(steps):
                g.step()
            gx, gy = g.state()
            err = max(np.abs(gx - x[-1]).max(), np.abs(gy - y[-1]).max()) / scale
            rows.append((name, dtype, err, tol))
            say(f"check: {name} {dtype}: max |ref - repcollapse| / max |z0| = {err:.2e} (tolerance {tol:g})")
            if not err <= tol:
                sys.exit(f"bench: the {name} reference disagrees with repcollapse's gd ({err:.3g} > {tol:g})")
    return rows


def check_siam_sg(cli, tmp):
    """The siam-sg references against repcollapse's siam-sg gd (x, y and P)."""
    data = ["--classes", "5", "--per-class", "200", "--frustration", "0.1", "--pattern", "random", "--seed", "3"]
    dt, steps, d = 0.5, 30, 8
    out = os.path.join(tmp, "check-sg")
    sh([cli, "run"] + data + ["--dim", str(d), "--model", "siam-sg", "--integrator", "gd", "--dt", str(dt),
                              "--steps", str(steps), "--times", f"0,{dt * steps}", "--snapshots", "--quiet",
                              "--out", out])
    obs = os.path.join(tmp, "check-sg.csv")
    sh([cli, "data"] + data + ["--out", obs])
    import h5py
    with h5py.File(os.path.join(out, "snapshots.h5")) as f:
        x, y, P = f["samples"][()], f["labels"][()], f["head"][()]
    i, c, w, N, K = ref.load_observations(obs)
    sx, sy = ref.rates(i, c, w, N, K)
    scale = max(np.abs(x[0]).max(), np.abs(y[0]).max(), np.abs(P[0]).max())
    moved = max(np.abs(x[-1] - x[0]).max(), np.abs(y[-1] - y[0]).max(), np.abs(P[-1] - P[0]).max()) / scale
    rows = []
    for name, cls in SIAM_SG_REFS:
        for dtype, tol in (("float64", 1e-12), ("float32", 1e-4)):
            g = cls(i, c, w, x[0], y[0], P[0], sx, sy, dt, dtype)
            for _ in range(steps):
                g.step()
            gx, gy, gP = g.state()
            err = max(np.abs(gx - x[-1]).max(), np.abs(gy - y[-1]).max(), np.abs(gP - P[-1]).max()) / scale
            rows.append((name, dtype, err, tol))
            say(f"check: {name} {dtype}: max |ref - repcollapse| over x, y, P / max |z0| = {err:.2e} "
                f"(tolerance {tol:g}; the state moved {moved:.2f})")
            if not err <= tol:
                sys.exit(f"bench: the {name} reference disagrees with repcollapse's siam-sg gd ({err:.3g} > {tol:g})")
    return rows, moved


SIAM_SG_REFS = (("PyTorch siam-sg, autograd", ref.TorchSiamSG),
                ("PyTorch siam-sg, hand-written", ref.TorchSiamSGManual),
                ("PyTorch siam-sg, preallocated", ref.TorchSiamSGPrealloc))


def bench_siam_sg(a, tmp):
    """(d): siam-sg gd and rk45 at N ~ 10^5, `reduced` at N ~ 10^4 .. 10^6."""
    import torch
    cli, d = a.cli, a.dim
    def spec(per_class, pattern="random"):
        return ["--classes", "100", "--per-class", str(per_class), "--frustration", "0.05", "--pattern", pattern,
                "--seed", "1", "--dim", str(d), "--model", "siam-sg"]
    n5 = a.per_class // 10
    R = {"per_class": n5}
    # gd: the fused step (`repcollapse bench --model siam-sg`: one warm-up step, then each step timed)
    # and its roofline: the three tile GEMMs at their measured rates, or the bytes at the stream bandwidth
    dt = 0.5
    R["gd"] = []
    for t in (1, 2):
        b = rc_json(cli, ["bench"] + spec(n5) + ["--dt", str(dt), "--steps", str(a.sg_steps), "--threads", str(t)])
        N5, tile = b["n_samples"], b["tile"]
        tiles = -(-N5 // tile)
        rates = {"nt": shape_rate(a.shape_gemm, "nt", tile, d, d, tiles, t),
                 "tn": shape_rate(a.shape_gemm, "tn", d, d, tile, tiles, t),
                 "nn": shape_rate(a.shape_gemm, "nn", tile, d, d, tiles, t)}
        per = 2.0 * N5 * d * d  # each of P x, S1^T X, S1 P
        compute = sum(per / (1e9 * rates[o]["gflops_best"]) for o in rates)
        compute += (b["gemm_flops_per_step"] - 3 * per) / (1e9 * rates["nt"]["gflops_best"])  # the labels' K x d x d
        memory = b["bytes_per_step"] / (1e9 * a.triad[t]["best_gb_per_s"])
        roof = max(compute, memory)
        g = {"threads": t, "per_step": b["seconds_per_step_min"], "median": b["seconds_per_step"],
             "flops": b["gemm_flops_per_step"], "bytes": b["bytes_per_step"], "roof": roof, "compute": compute,
             "memory": memory, "rates": {o: rates[o]["gflops_best"] for o in rates}, "tile": tile,
             "load": os.getloadavg()[0]}
        R["gd"].append(g)
        say(f"(d) siam-sg gd, N = {N5}, {t} thread(s): best {1e3 * g['per_step']:.1f} ms/step (median "
            f"{1e3 * g['median']:.1f}); roofline {1e3 * roof:.1f} ms (GEMMs {1e3 * compute:.1f} ms at "
            + ", ".join(f"{o} {rates[o]['gflops_best']:.1f}" for o in rates)
            + f" GFLOP/s, bytes {1e3 * memory:.1f} ms): {roof / g['per_step']:.0%} of it")
    R["N5"] = N5
    # PyTorch references of the same step, on the same observations
    obs = os.path.join(tmp, "obs-sg.csv")
    sh([cli, "data"] + spec(n5)[:10] + ["--out", obs])
    i, c, w, N, K = ref.load_observations(obs)
    sx, sy = ref.rates(i, c, w, N, K)
    rng = np.random.default_rng(2)
    x0 = rng.normal(0, 1 / math.sqrt(d), (N, d))
    y0 = rng.normal(0, 1 / math.sqrt(d), (K, d))
    P0 = np.eye(d)
    R["torch"] = {}
    for t in (1, 2):
        torch.set_num_threads(t)
        for name, cls in SIAM_SG_REFS:
            steps = a.ref_steps if "preallocated" not in name else max(a.ref_steps, 5)
            med, best = time_steps(lambda: cls(i, c, w, x0, y0, P0, sx, sy, dt, "float64"), steps)
            R["torch"][(name, t)] = (best, med, steps)
            rc = next(g["per_step"] for g in R["gd"] if g["threads"] == t)
            say(f"(d) {name}, float64, {t} thread(s): best {best:.3f} s/step (median {med:.3f}): "
                f"{best / rc:.1f}x repcollapse's gd")
    # rk45 and reduced: integration time = wall(t_end = T) - wall(t_end ~ 0)
    T0 = 1e-6
    def integ(per_class, integrator, T, pattern="random"):
        base, _ = run_wall(cli, spec(per_class, pattern) + ["--integrator", integrator, "--t-end", repr(T0),
                                                             "--times", f"0,{T0!r}"], tmp)
        full, sm = run_wall(cli, spec(per_class, pattern) + ["--integrator", integrator, "--t-end", repr(T),
                                                              "--times", f"0,{T!r}"], tmp)
        groups = json.loads(sh([cli, "data"] + spec(per_class, pattern)[:10]))["n_groups"]
        r = {"integrator": integrator, "N": sm["data"]["n_samples"], "groups": groups,
             "pattern": pattern, "T": T, "setup": base, "total": full, "integration": full - base}
        say(f"(d) siam-sg {integrator}, N = {r['N']}, {pattern} (G = {r['groups']}): to t = {T:g}: "
            f"{r['integration']:.2f} s integrating ({full:.2f} s in all, {base:.2f} s of set-up), "
            f"{r['integration'] / T:.1f} s per unit of time")
        return r
    Ti = a.sg_t
    R["integ"] = [integ(n5, "rk45", Ti), integ(n5, "reduced", Ti),
                  integ(a.per_class // 100, "reduced", Ti), integ(a.per_class, "reduced", Ti),
                  integ(a.per_class // 100, "reduced", 5 * Ti, "ring"), integ(a.per_class, "reduced", 5 * Ti, "ring")]
    R["dt"] = dt
    return R


def shape_rate(exe, op, m, n, k, tiles, threads):
    """dgemm GFLOP/s at one tile shape, called as the paths call it (bench/shape_gemm.c)."""
    return json.loads(sh([exe, "--op", op, "--m", str(m), "--n", str(n), "--k", str(k), "--tiles", str(tiles),
                          "--threads", str(threads), "--reps", "7"]))


def check_metrics(cli, tmp):
    """The PyTorch metrics peer against repcollapse's metrics.csv on a small problem."""
    data = ["--classes", "7", "--per-class", "300", "--frustration", "0.1", "--pattern", "random", "--seed", "3"]
    out = os.path.join(tmp, "check-m")
    sh([cli, "run"] + data + ["--dim", "16", "--times", "0,0.5,5", "--snapshots", "--quiet", "--out", out])
    obs = os.path.join(tmp, "check-m.csv")
    sh([cli, "data"] + data + ["--out", obs])
    import h5py
    with h5py.File(os.path.join(out, "snapshots.h5")) as f:
        x, y = f["samples"][()], f["labels"][()]
    with open(os.path.join(out, "metrics.csv")) as f:
        head = f.readline().strip().split(",")
        rows = [dict(zip(head, l.strip().split(","))) for l in f]
    i, c, w, N, K = ref.load_observations(obs)
    tm = ref.TorchMetrics(i, c, w, N, K)
    d0 = float(np.sqrt(min(((y[0][a] - y[0][b]) ** 2).sum() for a in range(K) for b in range(a + 1, K))))
    worst = 0.0
    for k in range(len(rows)):
        got = tm.compute(x[k], y[k], d0)
        for name, v in got.items():
            want = float(rows[k][name])
            err = abs(v - want) / max(abs(want), 1e-300)
            worst = max(worst, err)
            if not err <= 1e-9:
                sys.exit(f"bench: the PyTorch metrics peer disagrees with repcollapse on {name} at row {k}: "
                         f"{v!r} against {want!r}")
    say(f"check: PyTorch metrics against repcollapse's metrics.csv: max relative difference {worst:.1e}")
    return worst


def bench_metrics(a, data, d, i, c, w, N, K, x0, y0, triad):
    """(f): metrics of one recorded time, the exact state, the roofline, the PyTorch peer."""
    import torch
    res = []
    tm = ref.TorchMetrics(i, c, w, N, K)
    d0 = 1.0
    for t in (1, 2):
        b = rc_json(a.cli, ["bench"] + data + ["--dim", str(d), "--integrator", "exact", "--threads", str(t)])
        tile = b["metrics_tile"]
        g = shape_rate(a.shape_gemm, "nt", tile, K, d, -(-N // tile), t)
        flops, nbytes = b["metrics_gemm_flops"], b["metrics_bytes"]
        roof = max(flops / (1e9 * g["gflops_best"]), nbytes / (1e9 * triad[t]["best_gb_per_s"]))
        torch.set_num_threads(t)
        tp = []
        for _ in range(3):
            t0 = time.perf_counter()
            tm.compute(x0, y0, d0)
            tp.append(time.perf_counter() - t0)
        r = {"threads": t, "metrics": b["metrics_seconds_min"], "metrics_med": b["metrics_seconds"],
             "exact_eval": b["seconds_eval"], "exact": b["seconds"], "flops": flops, "bytes": nbytes,
             "rate": g["gflops_best"], "tile": tile, "roof": roof, "torch": min(tp), "torch_med": statistics.median(tp),
             "load": os.getloadavg()[0]}
        res.append(r)
        say(f"(f) metrics of one time, {t} thread(s): {r['metrics']:.3f} s (median {r['metrics_med']:.3f}); roofline "
            f"{roof:.3f} s ({flops / 1e9:.1f} GFLOP at {g['gflops_best']:.1f} GFLOP/s measured at {tile} x {K} x {d}, "
            f"{nbytes / 1e9:.2f} GB at {triad[t]['best_gb_per_s']:.1f} GB/s): {roof / r['metrics']:.0%} of it; "
            f"exact state {r['exact_eval']:.3f} s ({r['metrics'] / r['exact_eval']:.1f}x); PyTorch cdist "
            f"{r['torch']:.3f} s ({r['torch'] / r['metrics']:.1f}x)")
    return res


def gemm_peak(exe):
    out = json.loads(sh([exe, "2048", "5"]))
    return out["config"], {(r["routine"], r["threads"]): r for r in out["results"]}


def bench_ts(exe, steps):
    """(e): ts_bench --json, with OpenBLAS's default threads (every core) and one."""
    res = {}
    for t in sorted({os.cpu_count() or 1, 1}, reverse=True):  # gemm_peak's thread counts
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t))
        for line in sh([exe, "--json", "20000", "512", "64", "10", str(steps)], env=env).splitlines():
            r = json.loads(line)
            res[(r["model"], r["precision"], t)] = r
    return res


def bench_teacher_student(a):
    """(e): the gemm peak, then the teacher-student steps and their fraction of it."""
    peak_cfg, peak = gemm_peak(a.gemm_peak)
    for (routine, t), r in sorted(peak.items()):
        say(f"(e) {routine}, {t} thread(s): best {r['best_gflop_per_s']:.1f} GFLOP/s, "
            f"median {r['median_gflop_per_s']:.1f}")
    ts = bench_ts(a.ts_bench, 10)
    res_e = []
    for (model, prec, t), r in ts.items():
        best = r["seconds_per_step_min"]
        df, sf = r["dgemm_flops_per_step"], r["sgemm_flops_per_step"]
        # the time the step's dense products would take at this machine's measured peak
        ideal = df / (1e9 * peak[("dgemm", t)]["best_gflop_per_s"]) + sf / (1e9 * peak[("sgemm", t)]["best_gflop_per_s"])
        e = {"model": model, "precision": prec, "threads": t, "best": best, "mean": r["seconds_per_step"],
             "share": r["blas_seconds_per_step"] / r["seconds_per_step"], "df": df, "sf": sf,
             "gflops": (df + sf) / best / 1e9, "frac": ideal / best,
             "frac_blas": ideal / r["blas_seconds_per_step"], "steps": r["steps"]}
        res_e.append(e)
        say(f"(e) teacher-student {model} {prec}, {t} thread(s): best step {1e3 * best:.1f} ms, "
            f"{(df + sf) / 1e9:.3f} GFLOP of dense products ({df / 1e9:.3f} dgemm + {sf / 1e9:.3f} sgemm), "
            f"{e['gflops']:.1f} GFLOP/s = {100 * e['frac']:.0f}% of the measured peak "
            f"(BLAS share {100 * e['share']:.0f}%)")
    return peak_cfg, peak, res_e


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    if x >= 100:
        return f"{x:.0f}{unit}"
    if x >= 1:
        return f"{x:.3g}{unit}"
    return f"{x:.3g}{unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--per-class", type=int, default=9500, help="clean samples per class (K = 100)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20, help="timed repcollapse gd steps")
    ap.add_argument("--ref-steps", type=int, default=2, help="timed steps of each reference")
    ap.add_argument("--gemm-peak", required=True, help="bench/gemm_peak.c, built")
    ap.add_argument("--ts-bench", required=True, help="bench/ts_bench.c, built")
    ap.add_argument("--shape-gemm", required=True, help="bench/shape_gemm.c, built")
    ap.add_argument("--sg-steps", type=int, default=20, help="siam-sg gd: timed steps")
    ap.add_argument("--sg-t", type=float, default=0.2, help="siam-sg rk45 / reduced: simulated time timed")
    ap.add_argument("--only", default="", help="d, e and/or f (comma-separated): run only those sections, print "
                    "their figures and write nothing (for trying them out); default: everything")
    a = ap.parse_args()
    import torch

    m = machine()
    say("machine:", json.dumps(m))
    if m["load_at_start"] >= 1.0:
        say(f"bench: warning: load average {m['load_at_start']:.2f} at the start: other work shares the machine, "
            "the figures (above all the two-thread ones and the bandwidth fractions) will be disturbed")
    tmp = tempfile.mkdtemp(prefix="rc-bench-")
    if a.only:
        only = set(a.only.split(","))
        if not only <= {"d", "e", "f"}:
            sys.exit("bench: --only takes d, e and/or f")
        a.triad = {t: stream(a.stream, t) for t in (1, 2)}
        if "d" in only:
            check_siam_sg(a.cli, tmp)
            bench_siam_sg(a, tmp)
        if "e" in only:
            bench_teacher_student(a)
        if "f" in only:
            check_metrics(a.cli, tmp)
            data = ["--classes", "100", "--per-class", str(a.per_class), "--frustration", "0.05", "--pattern",
                    "random", "--seed", "1"]
            obs = os.path.join(tmp, "obs.csv")
            sh([a.cli, "data"] + data + ["--out", obs])
            i, c, w, N, K = ref.load_observations(obs)
            rng = np.random.default_rng(1)
            x0 = rng.normal(0, 1 / math.sqrt(a.dim), (N, a.dim))
            y0 = rng.normal(0, 1 / math.sqrt(a.dim), (K, a.dim))
            bench_metrics(a, data, a.dim, i, c, w, N, K, x0, y0, a.triad)
        return
    checks = check_references(a.cli, tmp)
    checks_sg, sg_moved = check_siam_sg(a.cli, tmp)
    check_m = check_metrics(a.cli, tmp)
    m["corename"] = shape_rate(a.shape_gemm, "nt", 8, 8, 8, 1, 1)["corename"]
    m["openblas_coretype_env"] = os.environ.get("OPENBLAS_CORETYPE", "(not set)")

    data = ["--classes", "100", "--per-class", str(a.per_class), "--frustration", "0.05", "--pattern", "random",
            "--seed", "1"]
    d = a.dim
    obs = os.path.join(tmp, "obs.csv")
    sh([a.cli, "data"] + data + ["--out", obs])
    i, c, w, N, K = ref.load_observations(obs)
    sx, sy = ref.rates(i, c, w, N, K)
    rng = np.random.default_rng(1)
    x0 = rng.normal(0, 1 / math.sqrt(d), (N, d))
    y0 = rng.normal(0, 1 / math.sqrt(d), (K, d))
    say(f"problem: N = {N}, K = {K}, observations = {len(i)} pairs ({w.sum():.0f}), d = {d}")

    # memory bandwidth
    triad = {t: stream(a.stream, t) for t in (1, 2)}
    a.triad = triad
    for t in (1, 2):
        say(f"STREAM triad, {t} thread(s): best {triad[t]['best_gb_per_s']:.1f} GB/s, "
            f"median {triad[t]['median_gb_per_s']:.1f} GB/s; in-place a = s a: best "
            f"{triad[t]['inplace_best_gb_per_s']:.1f} GB/s")

    # (a) gd per step
    spec = rc_json(a.cli, ["spectrum"] + data)
    fast, slow = spec["fast_rate"], spec["slow_rate"]
    dt_a = 0.9 / fast
    res_a = []
    for prec, dtype in (("f64", "float64"), ("f32", "float32")):
        for t in (1, 2):
            b = rc_json(a.cli, ["bench"] + data + ["--dim", str(d), "--dt", repr(dt_a), "--steps", str(a.steps),
                                                   "--precision", prec, "--threads", str(t)])
            torch.set_num_threads(t)
            tt, tt_min = time_steps(lambda: ref.TorchGD(i, c, w, x0, y0, sx, sy, dt_a, dtype), a.ref_steps)
            tp, tp_min = time_steps(lambda: ref.TorchGDPrealloc(i, c, w, x0, y0, sx, sy, dt_a, dtype),
                                    max(a.ref_steps, 5))
            tn = tn_min = None
            if t == 1:  # NumPy's add.at and fancy indexing run on one thread
                tn, tn_min = time_steps(lambda: ref.NumpyGD(i, c, w, x0, y0, sx, sy, dt_a, dtype), a.ref_steps)
            # best-of-N for every party: the machine may be shared, and the least
            # disturbed step is the closest to what the code itself costs
            gbs = b["bytes_per_step"] / b["seconds_per_step_min"] / 1e9
            r = {"precision": prec, "threads": t, "rc": b["seconds_per_step_min"], "rc_med": b["seconds_per_step"],
                 "gbs": gbs, "bytes": b["bytes_per_step"], "frac": gbs / triad[t]["best_gb_per_s"],
                 "frac_inplace": gbs / triad[t]["inplace_best_gb_per_s"],
                 "torch": tt_min, "torch_med": tt, "torch_pre": tp_min, "torch_pre_med": tp,
                 "numpy": tn_min, "numpy_med": tn}
            res_a.append(r)
            say(f"(a) gd {prec}, {t} thread(s), best step: repcollapse {r['rc'] * 1e3:.1f} ms "
                f"({r['gbs']:.1f} GB/s = {100 * r['frac']:.0f}% of the triad, {100 * r['frac_inplace']:.0f}% of "
                f"the in-place kernel); PyTorch {r['torch']:.3f} s ({r['torch'] / r['rc']:.0f}x), "
                f"PyTorch preallocated {r['torch_pre']:.3f} s ({r['torch_pre'] / r['rc']:.1f}x)"
                + (f", NumPy {r['numpy']:.3f} s ({r['numpy'] / r['rc']:.0f}x)" if tn else ""))

    # (b) time to t = 10 / slow_rate
    T = 10.0 / slow
    dt_b = 0.99 * 2.0 / fast
    steps_b = math.ceil(T / dt_b)
    ex = [rc_json(a.cli, ["bench"] + data + ["--dim", str(d), "--integrator", "exact"]) for _ in range(3)]
    t_exact = statistics.median(e["seconds"] for e in ex)
    torch.set_num_threads(1)
    g = ref.TorchGDPrealloc(i, c, w, x0, y0, sx, sy, dt_b, "float64")
    t0 = time.perf_counter()
    for _ in range(steps_b):
        g.step()
    t_torch_pre_b = time.perf_counter() - t0
    t_torch_b_projected = steps_b * next(r["torch"] for r in res_a if r["precision"] == "f64" and r["threads"] == 1)
    rc_b = rc_json(a.cli, ["bench"] + data + ["--dim", str(d), "--dt", repr(dt_b), "--steps", str(steps_b),
                                              "--threads", "1"])
    say(f"(b) t = 10/slow_rate = {T:.1f}: exact {t_exact:.3f} s; gd at dt = {dt_b:.4g} needs {steps_b} steps: "
        f"PyTorch preallocated {t_torch_pre_b:.1f} s measured ({t_torch_pre_b / t_exact:.0f}x the exact time), "
        f"PyTorch straightforward {t_torch_b_projected:.0f} s projected ({t_torch_b_projected / t_exact:.0f}x), "
        f"repcollapse gd {rc_b['seconds_total']:.2f} s measured")

    # (c) spectrum
    t_spec = []
    for _ in range(3):
        t0 = time.perf_counter()
        sh([a.cli, "spectrum"] + data)
        t_spec.append(time.perf_counter() - t0)
    say(f"(c) spectrum at N = {N}, K = {K}: {statistics.median(t_spec):.3f} s (whole command, median of 3)")
    m["load_after_c"] = os.getloadavg()[0]

    # (d) siam-sg
    sg = bench_siam_sg(a, tmp)
    m["load_after_d"] = os.getloadavg()[0]

    # (e) teacher-student step against the gemm peak
    peak_cfg, peak, res_e = bench_teacher_student(a)
    m["load_after_e"] = os.getloadavg()[0]

    # (f) metrics of one recorded time
    res_f = bench_metrics(a, data, d, i, c, w, N, K, x0, y0, triad)
    m["load_at_end"] = os.getloadavg()[0]

    # RESULTS.md
    L = []
    L.append("# Benchmarks: repcollapse beside PyTorch and NumPy\n")
    L.append("Written by `bash bench/run.sh` (bench/bench.py); every figure below was measured in that run. "
             "Rerun it to refresh this file.\n")
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    for k in ("cpu", "cores", "memory_gib", "kernel", "commit", "date", "python", "numpy", "torch", "blas",
              "corename", "openblas_coretype_env", "load_at_start", "load_after_c", "load_after_d", "load_after_e",
              "load_at_end"):
        v = m[k] if k != "blas" else peak_cfg
        L.append(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
    L.append("\n`corename` is OpenBLAS's `openblas_get_corename()`, the kernel set it chose at run time "
             "(`OPENBLAS_CORETYPE` is left as the environment has it). The load average (1 minute) is recorded "
             "because the machine may be shared: other work running at the same time slows the two-thread "
             "figures first. The bench itself keeps both cores busy, so the load it leaves behind (after its "
             "sections) includes its own work; what matters is that it was below 1 at the start (nothing else "
             "running)."
             + (f" **This run started at a load of {m['load_at_start']:.2f}: the machine was shared, so the "
                "figures below are disturbed (the two-thread ones most) and should be rerun on a quiet "
                "machine.**" if m["load_at_start"] >= 1.0 else "") + "\n")
    # every path side by side
    nnz = len(i)
    ex_bytes = 16.0 * N * d + 12.0 * nnz + 16.0 * N
    t_exact_eval = statistics.median(e["seconds_eval"] for e in ex)
    ex_roof = ex_bytes / (1e9 * triad[1]["best_gb_per_s"])
    L.append("## Every path side by side\n")
    L.append("Roofline = max(the path's GEMM flops / the dgemm rate measured at its own tile shapes, its bytes / "
             "the measured stream bandwidth), both measured in this run (sections below); `of roofline` = "
             "roofline / measured time. Ratio = peer time / repcollapse time (best of each).\n")
    L.append("| path | threads | repcollapse | roofline | of roofline | peer | peer time | ratio |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in res_a:
        if r["precision"] != "f64":
            continue
        roof = r["bytes"] / (1e9 * triad[r["threads"]]["inplace_best_gb_per_s"])
        L.append(f"| minimal gd step, f64 (a) | {r['threads']} | {1e3 * r['rc']:.1f} ms | {1e3 * roof:.1f} ms "
                 f"(bytes, in-place) | {roof / r['rc']:.0%} | PyTorch preallocated | {r['torch_pre']:.3f} s | "
                 f"{r['torch_pre'] / r['rc']:.1f}x |")
    L.append(f"| exact state at t = 10 / slow_rate (b) | 1 | {t_exact_eval:.3f} s | {ex_roof:.3f} s (bytes) | "
             f"{ex_roof / t_exact_eval:.0%} | PyTorch gd to that t, preallocated | {t_torch_pre_b:.1f} s | "
             f"{t_torch_pre_b / t_exact:.0f}x (whole exact: {t_exact:.3f} s) |")
    for r in res_f:
        L.append(f"| metrics of one recorded time (f) | {r['threads']} | {r['metrics']:.3f} s | {r['roof']:.3f} s "
                 f"(GEMM) | {r['roof'] / r['metrics']:.0%} | PyTorch cdist + topk | {r['torch']:.3f} s | "
                 f"{r['torch'] / r['metrics']:.1f}x |")
    for g in sg["gd"]:
        best, _med, _n = sg["torch"][("PyTorch siam-sg, preallocated", g["threads"])]
        L.append(f"| siam-sg gd step, N = {sg['N5']} (d) | {g['threads']} | {1e3 * g['per_step']:.1f} ms | "
                 f"{1e3 * g['roof']:.1f} ms ({'GEMM' if g['compute'] >= g['memory'] else 'bytes'}) | "
                 f"{g['roof'] / g['per_step']:.0%} | PyTorch preallocated | {best:.3f} s | {best / g['per_step']:.1f}x |")
    for e in sorted(res_e, key=lambda e: -e["threads"]):
        if e["model"] == "siam-sg" and e["precision"] == "f64":
            L.append(f"| teacher-student siam-sg step, f64 (e) | {e['threads']} | {1e3 * e['best']:.1f} ms | "
                     f"{1e3 * e['frac'] * e['best']:.1f} ms (GEMM at the 2048 x 2048 peak) | {e['frac']:.0%} | - | - | - |")
    L.append(f"\nThe exact state's roofline counts x(0) read and x(t) written plus the observations "
             f"({ex_bytes / 1e9:.2f} GB) at the one-thread triad; its evaluation runs on one thread. Not given a "
             "roofline: the spectrum (c: the K x K eigenproblem is milliseconds, the command is data generation), "
             "and siam-sg rk45 and `reduced` (d: their cost is the number of steps their error control takes "
             "times one vector field, which is not a fixed amount of work).\n")
    L.append("## The references and their check\n")
    L.append("`bench/references.py`: full-batch gd on the embedding tables as a researcher would write it: "
             "residuals per observation by gathering x and y, gradients accumulated with `index_add_` "
             "(PyTorch) or `np.add.at` (NumPy), z <- z + dt F(z) with the `degree` rate scheme. "
             "`PyTorch, preallocated` is the same step with every buffer allocated once "
             "(`index_select(out=)`, in-place arithmetic): PyTorch without its allocator in the loop. "
             "Before timing, each is run from repcollapse's initial state and compared with repcollapse's "
             "gd trajectory (`snapshots.h5`; K = 5, 200 per class, f = 0.1 random, d = 8, 30 steps):\n")
    L.append("| reference | dtype | max \\|ref - repcollapse\\| / max \\|z(0)\\| | tolerance |\n|---|---|---|---|")
    for name, dtype, err, tol in checks:
        L.append(f"| {name} | {dtype} | {err:.1e} | {tol:g} |")
    L.append("\nThe siam-sg references of (d) likewise, against repcollapse's `run --model siam-sg --integrator gd` "
             "(x, y and the head P; same data, d = 8, dt = 0.5, 30 steps, in which the state moves by "
             f"{sg_moved:.2f} of its initial size):\n")
    L.append("| reference | dtype | max \\|ref - repcollapse\\| / max \\|z(0)\\| | tolerance |\n|---|---|---|---|")
    for name, dtype, err, tol in checks_sg:
        L.append(f"| {name} | {dtype} | {err:.1e} | {tol:g} |")
    L.append(f"\n## Problem\n\n`{' '.join(data)} --dim {d}`: N = {N} samples, K = {K}, {len(i)} distinct "
             f"(sample, label) pairs, d = {d}; fast_rate = {fast:.6g}, slow_rate = {slow:.6g}.\n")
    L.append("## Memory bandwidth (bench/stream.c)\n")
    L.append("STREAM triad a = b + s c over 3 x 512 MiB arrays, best of 10, counted as STREAM does "
             "(3 x 8 bytes per element; a write-allocate cache also reads a, so the memory moves 4/3 of that).\n")
    L.append("Also an in-place update a = s a (one array read and written, 2 x 8 bytes per element, no "
             "write-allocate): the access pattern of a gd step, so the fairer limit for it.\n")
    L.append("| threads | triad best GB/s | triad median GB/s | in-place best GB/s | in-place median GB/s |")
    L.append("|---|---|---|---|---|")
    for t in (1, 2):
        L.append(f"| {t} | {triad[t]['best_gb_per_s']:.1f} | {triad[t]['median_gb_per_s']:.1f} | "
                 f"{triad[t]['inplace_best_gb_per_s']:.1f} | {triad[t]['inplace_median_gb_per_s']:.1f} |")
    L.append("\n## (a) gd: time per step\n")
    L.append(f"dt = {dt_a:.4g}. Every time is the best step (median in parentheses): repcollapse over "
             f"{a.steps} steps (`repcollapse bench`), the straightforward references over {a.ref_steps}, "
             f"the preallocated PyTorch over {max(a.ref_steps, 5)}, each after one untimed warm-up step. "
             "Best-of is used for every party alike because the machine may be shared. Bytes a step must move: "
             f"every embedding read and written once plus the observation arrays "
             f"({res_a[0]['bytes'] / 1e9:.3f} GB in f64, {res_a[2]['bytes'] / 1e9:.3f} GB in f32). "
             "Fraction = achieved GB/s over the best triad (and in-place kernel) with the same threads. "
             "Speedup = reference time / repcollapse time.\n")
    L.append("| precision | threads | repcollapse ms/step | GB/s | of triad (in-place) | PyTorch s/step | "
             "speedup | PyTorch preallocated s/step | speedup | NumPy s/step | speedup |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in res_a:
        L.append(f"| {r['precision']} | {r['threads']} | {r['rc'] * 1e3:.1f} ({r['rc_med'] * 1e3:.1f}) | "
                 f"{r['gbs']:.1f} | {100 * r['frac']:.0f}% ({100 * r['frac_inplace']:.0f}%) | "
                 f"{r['torch']:.3f} ({r['torch_med']:.3f}) | {r['torch'] / r['rc']:.0f}x | "
                 f"{r['torch_pre']:.3f} ({r['torch_pre_med']:.3f}) | {r['torch_pre'] / r['rc']:.1f}x | "
                 + (f"{r['numpy']:.3f} ({r['numpy_med']:.3f}) | {r['numpy'] / r['rc']:.0f}x |"
                    if r["numpy"] else "- | - |"))
    L.append("\n## (b) time to reach t = 10 / slow_rate\n")
    L.append(f"t = {T:.2f}. `exact`: the K x K decomposition and the state at t (`repcollapse bench --integrator "
             f"exact`, median of 3), exact at any t. gd at its largest stable step dt = 0.99 x 2 / fast_rate = "
             f"{dt_b:.4g}: {steps_b} steps, float64, one thread.\n")
    L.append("| method | seconds | ratio to exact |\n|---|---|---|")
    L.append(f"| repcollapse `exact` | {t_exact:.3f} | 1 |")
    L.append(f"| PyTorch gd, preallocated (measured, {steps_b} steps) | {t_torch_pre_b:.1f} | "
             f"{t_torch_pre_b / t_exact:.0f}x |")
    L.append(f"| PyTorch gd, straightforward (projected: {steps_b} x its best measured s/step from (a)) | "
             f"{t_torch_b_projected:.0f} | {t_torch_b_projected / t_exact:.0f}x |")
    L.append(f"| repcollapse gd (measured, {steps_b} steps) | {rc_b['seconds_total']:.2f} | "
             f"{rc_b['seconds_total'] / t_exact:.1f}x |")
    L.append("\ngd at this step is also only first-order accurate in dt; `exact` has no step error.\n")
    L.append("## (c) spectrum\n")
    L.append(f"`repcollapse spectrum {' '.join(data)}` (whole command: data generation, K x K reduction, "
             f"eigenvalues, JSON): median {statistics.median(t_spec):.3f} s, min {min(t_spec):.3f} s of 3.\n")
    L.append("## (d) siam-sg: gd, rk45 and `reduced`\n")
    L.append(f"`repcollapse run --model siam-sg` (docs/model.md section 3: |P x - sg(y)|^2 + |P y - sg(x)|^2, head "
             f"P = identity at the start) on `--classes 100 --per-class {sg['per_class']} --frustration 0.05 "
             f"--pattern random --seed 1 --dim {d}` (N = {sg['N5']}).\n")
    g1 = sg["gd"][0]
    L.append(f"gd, time per step: `repcollapse bench --model siam-sg --dt {sg['dt']} --threads T` times the fused "
             f"step of `run --integrator gd` (one warm-up step, then {a.sg_steps} steps each timed; best, median "
             f"in parentheses): per tile of {g1['tile']} samples, P x, the residuals of both terms, S1^T X into "
             "the head's gradient and x += dt f (S1 P) with the tile in cache; OpenMP threads over fixed blocks "
             "of samples, bit-identical for any thread count. Its roofline: the three tile GEMMs (2 N d^2 flops "
             f"each, {g1['flops'] / 1e9:.2f} GFLOP a step with the labels' products) at the dgemm rates measured "
             "at their shapes by bench/shape_gemm.c with the same threads (nt: "
             f"{g1['tile']} x {d} x {d}, tn: {d} x {d} x {g1['tile']}, nn: {g1['tile']} x {d} x {d}), against the "
             f"bytes a step must move ({g1['bytes'] / 1e9:.3f} GB: x read and written once, the observations) at "
             "the triad bandwidth.\n")
    L.append("| threads | best ms/step (median) | roofline ms | GEMM ms (nt, tn, nn GFLOP/s) | bytes ms | of roofline | load |")
    L.append("|---|---|---|---|---|---|---|")
    for g in sg["gd"]:
        L.append(f"| {g['threads']} | {1e3 * g['per_step']:.1f} ({1e3 * g['median']:.1f}) | {1e3 * g['roof']:.1f} | "
                 f"{1e3 * g['compute']:.1f} ({g['rates']['nt']:.1f}, {g['rates']['tn']:.1f}, {g['rates']['nn']:.1f}) | "
                 f"{1e3 * g['memory']:.1f} | {g['roof'] / g['per_step']:.0%} | {g['load']:.2f} |")
    L.append("\nPyTorch references on the same observations, float64, the best step (median in "
             "parentheses) after one warm-up step: `autograd` is what a SimSiam researcher writes (project "
             "with the head, gather per observation, targets `.detach()`ed, `torch.autograd.grad`); "
             "`hand-written` gathers residuals and sums them with `index_add_`, no autograd; `preallocated` "
             "is the hand-written step with `index_select(out=)` into buffers allocated once and in-place "
             "arithmetic (bench/references.py). Ratio = reference / repcollapse.\n")
    L.append("| threads | repcollapse ms/step | PyTorch autograd s/step | ratio | PyTorch hand-written s/step | ratio | "
             "PyTorch preallocated s/step | ratio |")
    L.append("|---|---|---|---|---|---|---|---|")
    for g in sg["gd"]:
        t, rc = g["threads"], g["per_step"]
        cells = []
        for name, _ in SIAM_SG_REFS:
            best, med, _n = sg["torch"][(name, t)]
            cells.append(f"{best:.3f} ({med:.3f}) | {best / rc:.1f}x")
        L.append(f"| {t} | {1e3 * rc:.1f} | " + " | ".join(cells) + " |")
    L.append("\nrk45 and `reduced`: integration time = `wall_seconds` of a run to t = T minus that of the same run "
             "to t = 1e-6 (the set-up: data, initial state, and the metrics at t = 0 and the end). Default "
             "tolerances (`--rtol 1e-10 --atol 1e-12`), every timing from t = 0 (the fast early transient), so "
             "seconds per unit time are for that stretch, not for a whole run. G: distinct observation rows "
             "(groups); the `reduced` state is G group means, G within-group d x d scatters, the K labels "
             "and P, so its cost follows G, never N. K = 100 with random frustration has up to "
             "100 + 4950 groups; `ring` (c with c+1) has 200 at any N.\n")
    L.append("| integrator | N | pattern | G | t from 0 to | integrating s | s per unit time | set-up s |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in sg["integ"]:
        L.append(f"| {r['integrator']} | {r['N']} | {r['pattern']} | {r['groups']} | {r['T']:g} | "
                 f"{r['integration']:.2f} | {r['integration'] / r['T']:.1f} | {r['setup']:.2f} |")
    g2 = next(g for g in sg["gd"] if g["threads"] == 2)
    L.append(f"\nFor scale: repcollapse's gd at dt = {sg['dt']} covers a unit of time in "
             f"{g2['per_step'] / sg['dt']:.2f} s at N = {sg['N5']} (2 threads); rk45 and `reduced` take steps "
             "small enough for a 1e-10 relative error.\n")
    L.append("## (e) teacher-student gd step against the dgemm / sgemm peak\n")
    L.append("Peak: `bench/gemm_peak.c`, C = A B on 2048 x 2048 matrices with the OpenBLAS the library links "
             "(one warm-up call, best of 5):\n")
    L.append("| routine | threads | best GFLOP/s | median GFLOP/s |\n|---|---|---|---|")
    for (routine, t), r in sorted(peak.items()):
        L.append(f"| {routine} | {t} | {r['best_gflop_per_s']:.1f} | {r['median_gflop_per_s']:.1f} |")
    L.append(f"\nStep: `bench/ts_bench.c` (as in bench/TEACHER_STUDENT.md), `rc_ts_gd_step` at N = 20000, "
             f"D = 512, d = 64, K = 10 (linear teacher, f = 0.1 conflict), one warm-up step then "
             f"{res_e[0]['steps']} steps each timed on its own; threads = `OPENBLAS_NUM_THREADS`. Flops are "
             "counted, not estimated: the BLAS entry points are wrapped at link time and every gemm the step "
             "calls adds 2 m n k (X = U W^T and dW = G^T U, 2 N D d each, plus the head's N x d x d "
             "products for siam and siam-sg; under f32 the two input products run in sgemm and the head's "
             "in dgemm). Fraction of peak = the time those flops take at the measured peak (dgemm flops at "
             "the dgemm peak plus sgemm flops at the sgemm peak, same threads) over the best step; "
             "`of BLAS time` is the same over the time spent inside BLAS only.\n")
    L.append("| model | precision | threads | ms/step best (mean) | BLAS share | GFLOP/step (dgemm + sgemm) | "
             "GFLOP/s | fraction of peak | of BLAS time |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for e in sorted(res_e, key=lambda e: (e["precision"], -e["threads"], e["model"])):
        L.append(f"| {e['model']} | {e['precision']} | {e['threads']} | {1e3 * e['best']:.1f} ({1e3 * e['mean']:.1f}) | "
                 f"{100 * e['share']:.0f}% | {e['df'] / 1e9:.3f} + {e['sf'] / 1e9:.3f} | {e['gflops']:.1f} | "
                 f"{100 * e['frac']:.0f}% | {100 * e['frac_blas']:.0f}% |")
    L.append("\n## (f) the metrics of one recorded time\n")
    L.append(f"Every per-time metric of `metrics.csv` (loss, accuracy, accuracy_frustrated, margin, "
             f"min_label_distance, mean_label_distance, within_class_spread, label_effective_rank) of the exact "
             f"state at t = 10 / slow_rate on the problem above (N = {N}, K = {K}, d = {d}), timed by "
             "`repcollapse bench --integrator exact --threads T` (one warm-up, best of 5, median in parentheses). "
             "The nearest labels go through one GEMM per tile of samples on embeddings centred by the labels' "
             "mean; the GEMM only selects candidates, rechecked with exact differences. Roofline: the GEMM's "
             f"2 N K d flops at the dgemm rate bench/shape_gemm.c measures at the tile shape "
             f"({res_f[0]['tile']} x {K} x {d}, same threads), against the bytes (x and the observations, "
             f"{res_f[0]['bytes'] / 1e9:.2f} GB) at the triad bandwidth. The exact state's cost (its evaluation "
             "at t, the decomposition built) from the same command. PyTorch: `bench/references.py` "
             "TorchMetrics, the same metrics with `torch.cdist` (its matrix-product path) and `topk` in chunks "
             "of 65536 samples, timed on the initial state (best of 3), checked first against repcollapse's "
             f"metrics.csv on a small problem (max relative difference {check_m:.1e}).\n")
    L.append("| threads | metrics s (median) | roofline s | GEMM GFLOP/s at the tile | of roofline | exact state s | "
             "metrics / exact state | PyTorch s (median) | PyTorch / repcollapse | load |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in res_f:
        L.append(f"| {r['threads']} | {r['metrics']:.3f} ({r['metrics_med']:.3f}) | {r['roof']:.3f} | {r['rate']:.1f} | "
                 f"{r['roof'] / r['metrics']:.0%} | {r['exact_eval']:.3f} | {r['metrics'] / r['exact_eval']:.1f}x | "
                 f"{r['torch']:.3f} ({r['torch_med']:.3f}) | {r['torch'] / r['metrics']:.1f}x | {r['load']:.2f} |")
    L.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    say("wrote", a.out)


if __name__ == "__main__":
    main()
