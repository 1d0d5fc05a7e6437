"""bench.py: repcollapse beside the code a researcher would otherwise write
(bench/references.py: PyTorch on the CPU and NumPy), in one run, on the same
problems. Run it through bench/run.sh, which builds everything first.

  (a) gd time per step at N ~ 10^6, K = 100, d = 64: f64 and f32, 1 and 2
      threads; the fraction of the memory bandwidth a STREAM triad reaches
      (bench/stream.c) achieved from the bytes a step must move;
  (b) time to reach t = 10 / slow_rate: the `exact` integrator against gd at
      its largest stable step (dt just below 2 / fast_rate);
  (c) the exact spectrum at N ~ 10^6, K = 100.
Before timing, every reference is checked against repcollapse's own gd
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
    a = ap.parse_args()
    import torch

    m = machine()
    say("machine:", json.dumps(m))
    tmp = tempfile.mkdtemp(prefix="rc-bench-")
    checks = check_references(a.cli, tmp)

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
    m["load_at_end"] = os.getloadavg()[0]

    # RESULTS.md
    L = []
    L.append("# Benchmarks: repcollapse beside PyTorch and NumPy\n")
    L.append("Written by `bash bench/run.sh` (bench/bench.py); every figure below was measured in that run. "
             "Rerun it to refresh this file.\n")
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    for k in ("cpu", "cores", "memory_gib", "kernel", "commit", "date", "python", "numpy", "torch",
              "load_at_start", "load_at_end"):
        L.append(f"| {k} | {m[k]} |")
    L.append("\nThe load average is recorded because the machine may be shared: other work running at the "
             "same time slows the two-thread figures first.\n")
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
    L.append("## TODO: models not built yet\n")
    L.append("- TODO(siam-sg): time `rk45`, `gd` and the exact `reduced` integrator of the projection-head "
             "models (MODEL.md section 3) against a PyTorch reference; not measured: the models do not exist yet.")
    L.append("- TODO(teacher-student): fraction of this machine's dgemm peak reached by the linear "
             "teacher-student model (MODEL.md section 4); not measured: the model does not exist yet.")
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    say("wrote", a.out)


if __name__ == "__main__":
    main()
