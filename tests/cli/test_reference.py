#!/usr/bin/python3
"""Compare the repcollapse CLI against the independent dense NumPy reference
(tests/reference/minimal_ref.py) on small data sets.

    /usr/bin/python3 tests/cli/test_reference.py --cli build/repcollapse [-v] [--keep DIR]

For every case: `data` writes obs.csv (its structure is checked against the
generator's definition), the reference builds the dense J from obs.csv, and
  - `spectrum` (every distinct rate and multiplicity, zero modes, components,
    slow/fast rate, final_min_label_distance) is compared with eigh of J;
  - `run --integrator exact --snapshots` on a time grid starting at t = 0 is
    compared with expm(-J t) applied to the run's own initial state (row 0 of
    snapshots.h5): snapshots, every column of metrics.csv, and the summary
    (final, collapse_time, fitted_slow_rate, spectrum).
One case also runs rk45 (tolerance 1e-6) and gd (z <- z + dt F(z) recomputed
in NumPy, 1e-10), and checks that gd refuses dt * fast_rate >= 2.
Prints one line per failed check and a final `N passed, M failed`; exits 1 on
any failure."""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import minimal_ref as mr  # noqa: E402
import nc_ref  # noqa: E402

try:
    import h5py
except ImportError:  # pragma: no cover
    print("h5py is required (run with /usr/bin/python3)")
    sys.exit(2)


class Checker:
    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose
        self.case = ""

    def ok(self, cond, what):
        if cond:
            self.passed += 1
            if self.verbose:
                print(f"ok   [{self.case}] {what}")
        else:
            self.failed += 1
            print(f"FAIL [{self.case}] {what}")
        return cond

    def close(self, got, want, what, rtol, atol):
        """Scalar comparison; None means null on both sides."""
        if want is None or got is None:
            return self.ok(got is None and want is None, f"{what}: got {got!r}, want {want!r}")
        good = math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)
        return self.ok(good, f"{what}: got {got!r}, want {want!r} (diff {abs(got - want):.3g})")

    def arrays(self, got, want, what, rtol, atol):
        got = np.asarray(got, float)
        want = np.asarray(want, float)
        if not self.ok(got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"):
            return False
        err = np.abs(got - want) - (atol + rtol * np.abs(want))
        bad = ~(err <= 0)
        if bad.any():
            idx = np.unravel_index(np.argmax(np.where(np.isnan(err), np.inf, err)), err.shape)
            return self.ok(False, f"{what}: {int(bad.sum())} entries off, worst at {idx}: got {got[idx]!r}, "
                                  f"want {want[idx]!r}")
        return self.ok(True, what)


def run_cli(cli, args, expect_ok=True, timeout=60):
    cmd = [cli] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if expect_ok and p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    return p


def cmdline(cli, args):
    return " ".join([os.path.basename(cli)] + [str(a) for a in args])


def read_metrics_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    out = []
    for r in rows[1:]:
        if not r:
            continue
        out.append({h: (None if v.strip() == "" else float(v)) for h, v in zip(header, r)})
    return header, out


# ----------------------------------------------------------------------------
# structure of generated data sets (docs/model.md section 1)


def check_generated(ck, A, gen):
    """gen: dict with sizes (list), and frustrated spec: ('pairs', {(a,b): n}) or
    ('fraction', f, pattern)."""
    N, K = A.shape
    sizes = gen["sizes"]
    ck.ok(K == len(sizes), f"data: K = {K}, want {len(sizes)}")
    clean = mr.clean_mask(A)
    own = np.argmax(A, axis=1)
    got_sizes = [int(((own == c) & clean).sum()) for c in range(K)]
    ck.ok(got_sizes == list(sizes), f"data: clean class sizes {got_sizes}, want {sizes}")
    fr = np.where(~clean)[0]
    ck.ok(bool((A[clean].sum(axis=1) == 1).all()), "data: every clean sample observed once")
    pair_count = {}
    for i in fr:
        cs = tuple(int(c) for c in np.nonzero(A[i])[0])
        ck.ok(len(cs) == 2 and A[i, cs[0]] == 1 and A[i, cs[1]] == 1,
              f"data: frustrated sample {i} seen once with two labels (row {A[i].tolist()})")
        pair_count[cs] = pair_count.get(cs, 0) + 1
    kind = gen["frustrated"][0]
    if kind == "pairs":
        want = {tuple(sorted(k)): v for k, v in gen["frustrated"][1].items()}
        ck.ok(pair_count == want, f"data: frustrated pairs {pair_count}, want {want}")
    elif kind == "fraction":
        f, pattern = gen["frustrated"][1], gen["frustrated"][2]
        C = sum(sizes)
        F = int(math.floor(f * C / (1 - f) + 0.5))
        ck.ok(len(fr) == F, f"data: F = {len(fr)}, want round(f C/(1-f)) = {F}")
        if pattern == "pair":
            ck.ok(set(pair_count) <= {(0, 1)}, f"data: pair pattern uses {sorted(pair_count)}")
        elif pattern == "ring":
            ring = {tuple(sorted((c, (c + 1) % K))) for c in range(K)}
            ck.ok(set(pair_count) <= ring, f"data: ring pattern uses {sorted(pair_count)}")
        elif pattern == "complete":
            allp = [(a, b) for a in range(K) for b in range(a + 1, K)]
            q, r = divmod(F, len(allp))
            want = {p: q + (1 if k < r else 0) for k, p in enumerate(allp)}
            want = {p: v for p, v in want.items() if v}
            ck.ok(pair_count == want, f"data: complete pattern {pair_count}, want {want}")
        # random: any two distinct classes (checked above)


def data_facts(A):
    """Facts of a data set computed from A, under the names the CLI reports."""
    clean = mr.clean_mask(A)
    own = np.argmax(A, axis=1)
    return {
        "n_samples": A.shape[0],
        "n_classes": A.shape[1],
        "n_observations": float(A.sum()),
        "n_frustrated": int((~clean).sum()),
        "frustration": float((~clean).sum() / A.shape[0]),
        "clean_per_class": [int(((own == c) & clean).sum()) for c in range(A.shape[1])],
        "n_components": len(mr.class_graph_components(A)),
        "n_groups": len({tuple(r) for r in A.tolist()}),
    }


def check_data_summary(ck, js, A, what):
    """Every key of a data summary that the reference also knows must agree."""
    facts = data_facts(A)
    common = [k for k in facts if k in js]
    ck.ok(len(common) >= 3, f"{what}: knows only {common} of {list(facts)}")
    for k in common:
        g, w = js[k], facts[k]
        good = abs(g - w) <= 1e-15 * abs(w) if isinstance(w, float) else g == w
        ck.ok(good, f"{what}: {k} = {g!r}, want {w!r}")


# ----------------------------------------------------------------------------
# comparisons


def compare_spectrum(ck, js, model, what):
    want = model.spectrum_dict()
    ck.ok(js.get("zero_modes") == want["zero_modes"],
          f"{what}: zero_modes {js.get('zero_modes')}, want {want['zero_modes']}")
    if "components" in js:
        got_c = sorted(sorted(int(c) for c in comp) for comp in js["components"])
        ck.ok(got_c == sorted(want["components"]), f"{what}: components {js['components']}, want {want['components']}")
    else:
        ck.ok(False, f"{what}: no 'components' key")
    ck.close(js.get("slow_rate"), want["slow_rate"], f"{what}: slow_rate", 1e-9, 0.0)
    ck.close(js.get("fast_rate"), want["fast_rate"], f"{what}: fast_rate", 1e-9, 0.0)
    rates = js.get("rates", [])
    wr = want["rates"]
    if not ck.ok(len(rates) == len(wr), f"{what}: {len(rates)} distinct rates, want {len(wr)}: "
                                        f"got {rates}, want {[[round(r, 12), m] for r, m in wr]}"):
        return
    for k, ((gr, gm), (rr, rm)) in enumerate(zip(rates, wr)):
        ck.close(gr, rr, f"{what}: rate[{k}]", 1e-9, 0.0)
        ck.ok(gm == rm, f"{what}: multiplicity of rate[{k}] = {rr:.12g}: {gm}, want {rm}")
    total = js.get("zero_modes", 0) + sum(m for _, m in rates)
    ck.ok(total == model.N + model.K, f"{what}: zero_modes + multiplicities = {total}, want N+K = {model.N + model.K}")


def compare_metric_rows(ck, got_rows, want_rows, diags, d0, K, what, rtol, atol):
    """Compare metrics.csv rows with the reference metrics (with the tie and
    noise rules of the brief)."""
    if not ck.ok(len(got_rows) == len(want_rows), f"{what}: {len(got_rows)} rows, want {len(want_rows)}"):
        return
    n_bad = {}
    first_bad = {}
    for k, (g, w, dg) in enumerate(zip(got_rows, want_rows, diags)):
        for m in mr.METRIC_NAMES:
            gv, wv = g.get(m, "missing"), w[m]
            if gv == "missing":
                n_bad[m] = n_bad.get(m, 0) + 1
                first_bad.setdefault(m, (k, "missing column", wv))
                continue
            if m in nc_ref.NC_NAMES:  # section 6.4: tolerances from the state's error (nc_ref.close_enough)
                nd = dg["nc"]
                if nd["trace_b_ratio"] is not None and 0.5e-24 <= nd["trace_b_ratio"] <= 2e-24:
                    continue  # at the null threshold
                if wv is None or gv is None:
                    good = gv is None and wv is None
                elif m == "nc4":
                    if min(nd["gap_label"], nd["gap_mean"]) < 1e-9:
                        continue  # near-tie
                    good = gv == wv
                else:
                    e_abs = atol * d0 + rtol * dg["hmax"]
                    sc = nd.get("scale_" + m[:3]) if m != "rankme" else None
                    q = (rtol + atol) if m == "rankme" else (e_abs / sc if sc else math.inf)
                    good = nc_ref.close_enough(m, gv, wv, q, rtol)
            elif m == "accuracy" or m == "accuracy_frustrated":
                gap = dg["min_gap_clean"] if m == "accuracy" else dg["min_gap_frustrated"]
                if gap < 1e-9:
                    continue  # near-tie: the ranking is not determined to the precision at hand
                good = (gv is None and wv is None) or (gv is not None and wv is not None and gv == wv)
            elif m == "label_effective_rank":
                ratio = dg["trace_ratio"]
                if 0.5e-24 <= ratio <= 2e-24:
                    continue  # at the null threshold
                if wv is None or gv is None:
                    good = gv is None and wv is None
                else:
                    # the centred labels carry absolute noise ~1e-16 once collapsed
                    tol = rtol + 1e-15 / math.sqrt(ratio)
                    good = abs(gv - wv) <= tol * abs(wv)
            else:
                scale_free = ("margin", "relative_label_distance", "angular_label_distance")
                scale = d0 * d0 if m in ("loss", "within_class_spread") else (1.0 if m in scale_free else d0)
                if wv is None or gv is None:
                    good = gv is None and wv is None
                else:
                    good = math.isfinite(gv) and abs(gv - wv) <= atol * scale + rtol * abs(wv)
            if not good:
                n_bad[m] = n_bad.get(m, 0) + 1
                first_bad.setdefault(m, (k, gv, wv))
    for m in mr.METRIC_NAMES:
        if m in n_bad:
            k, gv, wv = first_bad[m]
            ck.ok(False, f"{what}: {m} differs at {n_bad[m]} times; first at row {k} "
                         f"(t={want_rows[k]['_t']!r}): got {gv!r}, want {wv!r}")
        else:
            ck.ok(True, f"{what}: {m}")


def make_times(model, x0, y0, n_log=30, n_lin=8, floor=1e-6, depth=14.0):
    """t = 0, log-spaced times from 0.01/fast_rate to t_end, and a few linear
    ones inside the fit window [5/lambda_next, t_end]. t_end = depth/slow_rate,
    or earlier where the reference D(t)/D(0) first falls below `floor`, so that
    every compared D is far above the reference's own rounding noise."""
    slow = model.slow_rate if model.slow_rate > 0 else 1.0
    t_end = depth / slow
    z0 = np.concatenate([x0, y0])
    d0 = mr.metrics_reference(y0)["d0"]
    probe = np.geomspace(1e-2 / model.fast_rate, 3 * t_end, 300)
    Z = model.propagate(z0, probe)
    D = np.array([mr.label_distances(z[model.N:]).min() for z in Z]) / d0
    below = np.nonzero(D < floor)[0]
    if below.size and probe[below[0]] < t_end:
        t_end = float(probe[below[0]])
    ts = list(np.geomspace(1e-2 / model.fast_rate, t_end, n_log))
    t0 = mr.fit_window(model)
    if t0 < t_end:
        ts += list(np.linspace(t0, t_end, n_lin + 2)[1:-1])
    ts = sorted(set(float(t) for t in ts))
    ts = [t * (1 + 1e-3) if abs(t - t0) < 1e-6 * t0 else t for t in ts]
    return [0.0] + ts


def times_arg(times):
    return ",".join(repr(float(t)) for t in times)


def load_snapshots(path):
    with h5py.File(path, "r") as f:
        out = {k: np.asarray(f[k]) for k in f.keys()}
    return out


def rows_with_t(rows, times):
    for r, t in zip(rows, times):
        r["_t"] = t
    return rows


def check_run_against(ck, run_dir, model, times, X, Y, rows, diags, d0, what, rtol, atol, summary_ref=None):
    """Compare a run directory (metrics.csv, snapshots.h5, summary.json) with
    reference states and metrics."""
    snap = load_snapshots(os.path.join(run_dir, "snapshots.h5"))
    ck.arrays(snap["t"], times, f"{what}: snapshots /t", 1e-15, 0.0)
    ck.arrays(snap["samples"], X, f"{what}: snapshots /samples", rtol, atol * d0)
    ck.arrays(snap["labels"], Y, f"{what}: snapshots /labels", rtol, atol * d0)
    header, got_rows = read_metrics_csv(os.path.join(run_dir, "metrics.csv"))
    ck.ok(header == ["t"] + mr.METRIC_NAMES, f"{what}: metrics.csv header {header}")
    ck.arrays([r["t"] for r in got_rows], times, f"{what}: metrics.csv t column", 1e-15, 0.0)
    compare_metric_rows(ck, got_rows, rows_with_t(rows, times), diags, d0, model.K, f"{what}: metrics.csv", rtol, atol)
    with open(os.path.join(run_dir, "summary.json")) as fh:
        summ = json.load(fh)
    if "data" in summ:
        check_data_summary(ck, summ["data"], model.A, f"{what}: summary data")
    final = summ.get("final", {})
    compare_metric_rows(ck, [final], [rows[-1]], [diags[-1]], d0, model.K, f"{what}: summary final", rtol, atol)
    if summary_ref is not None:
        # the exact integrator finds collapse_time on the exact labels (Brent), not from the recorded times
        ck.ok(summ.get("collapse_time_method") == "exact-brent",
              f"{what}: collapse_time_method {summ.get('collapse_time_method')!r}, want 'exact-brent'")
        ck.close(summ.get("collapse_time"), summary_ref["collapse_time_exact"], f"{what}: collapse_time", max(rtol, 1e-9), 0.0)
        ck.close(summ.get("fitted_slow_rate"), summary_ref["fitted_slow_rate"], f"{what}: fitted_slow_rate",
                 max(rtol, 1e-9) * 10, 1e-12)
        if "spectrum" in summ:
            compare_spectrum(ck, summ["spectrum"], model, f"{what}: summary spectrum")
        else:
            ck.ok(False, f"{what}: summary.json has no 'spectrum'")
        if "final_min_label_distance" in summ:
            ck.close(summ["final_min_label_distance"], summary_ref["final_min_label_distance"],
                     f"{what}: summary final_min_label_distance", 1e-9, 1e-12 * d0)
    return summ


# ----------------------------------------------------------------------------
# cases


def write_obs_file(path):
    """Hand-made observations: uneven classes, repeated observations, a
    frustrated sample with unequal counts, two class-graph components
    ({0,1,2} and {3,4}), lines in shuffled order."""
    rng = np.random.default_rng(2024)
    obs = []
    sizes = [6, 11, 4, 9, 7]
    i = 0
    for c, n in enumerate(sizes):
        for _ in range(n):
            obs += [(i, c)] * int(rng.integers(1, 4))  # seen 1-3 times
            i += 1
    # frustrated: (0,1) x3 with counts (2,1), (1,2) x2, (3,4) x2 with (1,3), triple (0,1,2) x1
    for a, b, na, nb, cnt in [(0, 1, 2, 1, 3), (1, 2, 1, 1, 2), (3, 4, 1, 3, 2)]:
        for _ in range(cnt):
            obs += [(i, a)] * na + [(i, b)] * nb
            i += 1
    obs += [(i, 0), (i, 1), (i, 2), (i, 2)]
    i += 1
    order = rng.permutation(len(obs))
    with open(path, "w") as fh:
        fh.write("sample,label\n")
        for k in order:
            fh.write(f"{obs[k][0]},{obs[k][1]}\n")


CASES = [
    # name, data options, generator description (None: not checked), model options, dim, seed options
    dict(name="clean-K3", data=["--classes", 3, "--per-class", 20],
         gen=dict(sizes=[20, 20, 20], frustrated=("pairs", {})), rates="degree", ex=1.0, ey=1.0, dim=4,
         seed=["--seed", 11]),
    dict(name="pair-K2", data=["--classes", 2, "--per-class", 30, "--frustration", 0.1, "--pattern", "pair"],
         gen=dict(sizes=[30, 30], frustrated=("fraction", 0.1, "pair")), rates="degree", ex=1.0, ey=1.0, dim=3,
         seed=["--seed", 5], extra=("rk45", "gd")),
    dict(name="ring-K4-uniform",
         data=["--classes", 4, "--per-class", 15, "--frustration", 0.2, "--pattern", "ring"],
         gen=dict(sizes=[15] * 4, frustrated=("fraction", 0.2, "ring")), rates="uniform", ex=1.0, ey=1.0, dim=5,
         seed=["--seed", 3], extra=("rk45",)),
    dict(name="complete-K4-eta",
         data=["--classes", 4, "--per-class", 10, "--frustration", 0.25, "--pattern", "complete"],
         gen=dict(sizes=[10] * 4, frustrated=("fraction", 0.25, "complete")), rates="degree", ex=0.6, ey=1.7,
         dim=6, seed=["--seed", 8]),
    dict(name="random-K5-uniform-eta",
         data=["--classes", 5, "--per-class", 12, "--frustration", 0.1, "--pattern", "random", "--data-seed", 7],
         gen=dict(sizes=[12] * 5, frustrated=("fraction", 0.1, "random")), rates="uniform", ex=2.0, ey=0.5,
         dim=4, seed=["--init-seed", 3]),
    dict(name="explicit-uneven-uniform",
         data=["--per-class", "20,30,25", "--frustrated", "0-1:4,1-2:2"],
         gen=dict(sizes=[20, 30, 25], frustrated=("pairs", {(0, 1): 4, (1, 2): 2})), rates="uniform",
         ex=1.0, ey=1.0, dim=3, seed=["--seed", 21]),
    dict(name="explicit-uneven-degree",
         data=["--per-class", "20,30,25", "--frustrated", "0-1:4,1-2:2"],
         gen=dict(sizes=[20, 30, 25], frustrated=("pairs", {(0, 1): 4, (1, 2): 2})), rates="degree",
         ex=1.0, ey=1.0, dim=3, seed=["--seed", 21]),
    dict(name="obsfile-degree-classinit", data="FILE", gen=None, rates="degree", ex=1.0, ey=1.0, dim=3,
         seed=["--seed", 4], init=["--init", "class", "--init-spread", 0.3]),
    dict(name="obsfile-uniform-eta", data="FILE", gen=None, rates="uniform", ex=0.8, ey=1.5, dim=3,
         seed=["--seed", 4]),
]


def model_args(case):
    """Model options, plus the init options that only spectrum and run take."""
    return (["--rates", case["rates"], "--eta-x", repr(case["ex"]), "--eta-y", repr(case["ey"])] +
            [str(v) for v in case.get("init", [])])


def run_case(ck, cli, case, work):
    ck.case = case["name"]
    cdir = os.path.join(work, case["name"])
    os.makedirs(cdir, exist_ok=True)
    obs = os.path.join(cdir, "obs.csv")
    if case["data"] == "FILE":
        user = os.path.join(cdir, "user_obs.csv")
        write_obs_file(user)
        data = ["--observations", user]
    else:
        data = list(case["data"])
    # `data` has no initial state: it gets no --init-seed
    sd = case["seed"]
    data_seed = [v for k in range(0, len(sd), 2) if sd[k] != "--init-seed" for v in sd[k:k + 2]]
    p = run_cli(cli, ["data"] + data + data_seed + ["--out", obs])
    try:
        djs = json.loads(p.stdout)
        ck.ok(True, "data: JSON summary on stdout")
    except ValueError:
        djs = {}
        ck.ok(False, f"data: stdout is not one JSON object: {p.stdout[:200]!r}")
    A = mr.read_observations(obs)
    check_data_summary(ck, djs, A, "data JSON")
    if case["data"] == "FILE":
        A_user = mr.read_observations(data[1])
        ck.ok(A.shape == A_user.shape and np.array_equal(A, A_user), "data: obs.csv reproduces the user file")
    if case["gen"] is not None:
        check_generated(ck, A, case["gen"])

    model = mr.Model(A, case["rates"], case["ex"], case["ey"])
    margs = model_args(case)
    d = case["dim"]

    # spectrum
    spec_cmd = ["spectrum"] + data + margs + case["seed"] + ["--dim", d]
    js = json.loads(run_cli(cli, spec_cmd).stdout)
    compare_spectrum(ck, js, model, "spectrum")
    if case["rates"] == "degree":  # the group reduction must agree too
        js_g = json.loads(run_cli(cli, spec_cmd + ["--method", "group"]).stdout)
        compare_spectrum(ck, js_g, model, "spectrum --method group")

    # a first run only to learn the initial state (row 0 of the snapshots)
    probe_dir = os.path.join(cdir, "probe")
    run_cli(cli, ["run"] + data + margs + case["seed"] +
            ["--dim", d, "--integrator", "exact", "--t-end", "1", "--times", "0,1", "--out", probe_dir,
             "--snapshots"])
    snap = load_snapshots(os.path.join(probe_dir, "snapshots.h5"))
    times = make_times(model, snap["samples"][0], snap["labels"][0])

    # exact run
    run_dir = os.path.join(cdir, "exact")
    run_cmd = (["run"] + data + margs + case["seed"] +
               ["--dim", d, "--integrator", "exact", "--t-end", repr(times[-1]), "--times", times_arg(times),
                "--out", run_dir, "--snapshots"])
    run_cli(cli, run_cmd)
    snap = load_snapshots(os.path.join(run_dir, "snapshots.h5"))
    if not ck.ok(snap["t"][0] == 0.0, f"exact: first snapshot time is {snap['t'][0]}, want 0"):
        return
    x0, y0 = snap["samples"][0], snap["labels"][0]
    ck.arrays(x0, load_snapshots(os.path.join(probe_dir, "snapshots.h5"))["samples"][0],
              "exact: same initial state as a run on another time grid", 0.0, 0.0)
    ck.ok(x0.shape == (model.N, d) and y0.shape == (model.K, d), f"exact: initial state shapes {x0.shape} {y0.shape}")
    res = mr.trajectory_metrics(model, x0, y0, times)
    d0 = res["ref"]["d0"]
    if ck.verbose:
        print(f"     [{case['name']}] N={model.N} K={model.K} slow={model.slow_rate:.6g} next={model.next_rate:.6g} "
              f"fast={model.fast_rate:.6g} D(end)/D0={res['rows'][-1]['min_label_distance'] / d0:.3g} "
              f"collapse_time={res['collapse_time']} fitted={res['fitted_slow_rate']}")
    ck.close(js.get("final_min_label_distance"), res["final_min_label_distance"],
             "spectrum --dim: final_min_label_distance", 1e-9, 1e-12 * d0)
    if "initial_min_label_distance" in js:  # spectrum and run draw the same initial state
        ck.close(js["initial_min_label_distance"], d0, "spectrum --dim: initial_min_label_distance", 1e-13, 0.0)
    check_run_against(ck, run_dir, model, times, res["X"], res["Y"], res["rows"], res["diag"], d0,
                      "exact", 1e-8, 1e-10, summary_ref=res)

    if case["rates"] == "degree":  # exact by the group reduction instead of the K x K problem
        grp_dir = os.path.join(cdir, "exact_group")
        run_cli(cli, [a if a != run_dir else grp_dir for a in run_cmd] + ["--exact-method", "group"])
        check_run_against(ck, grp_dir, model, times, res["X"], res["Y"], res["rows"], res["diag"], d0,
                          "exact --exact-method group", 1e-8, 1e-10, summary_ref=res)

    # --seed S is --data-seed S --init-seed S
    if case["seed"][0] == "--seed" and case["data"] != "FILE":
        sv = case["seed"][1]
        alt_dir = os.path.join(cdir, "seed_split")
        run_cli(cli, ["run"] + data + margs + ["--data-seed", sv, "--init-seed", sv] +
                ["--dim", d, "--integrator", "exact", "--t-end", "1", "--times", "0,1", "--out", alt_dir,
                 "--snapshots"])
        a1 = load_snapshots(os.path.join(alt_dir, "snapshots.h5"))
        a0 = load_snapshots(os.path.join(probe_dir, "snapshots.h5"))
        ck.ok(all(np.array_equal(a1[k], a0[k]) for k in ("samples", "labels")),
              "--seed S gives the run of --data-seed S --init-seed S")

    extra = case.get("extra", ())
    if "rk45" in extra:
        rk_dir = os.path.join(cdir, "rk45")
        run_cli(cli, ["run"] + data + margs + case["seed"] +
                ["--dim", d, "--integrator", "rk45", "--t-end", repr(times[-1]), "--times", times_arg(times),
                 "--out", rk_dir, "--snapshots"])
        snap_rk = load_snapshots(os.path.join(rk_dir, "snapshots.h5"))
        # (exact's row 0 is rebuilt from its decomposition: equal up to rounding)
        ck.arrays(snap_rk["samples"][0], x0, "rk45: same initial samples as exact", 0.0, 1e-13)
        ck.arrays(snap_rk["labels"][0], y0, "rk45: same initial labels as exact", 0.0, 1e-13)
        check_run_against(ck, rk_dir, model, times, res["X"], res["Y"], res["rows"], res["diag"], d0,
                          "rk45", 1e-6, 1e-6)
    if "gd" in extra:
        dt = 0.37 / model.fast_rate  # dt * fast_rate = 0.37
        steps = [0, 1, 2, 5, 17, 60, 200, 500, 1000]
        gtimes = [k * dt for k in steps]
        gd_dir = os.path.join(cdir, "gd")
        gd_cmd = (["run"] + data + margs + case["seed"] +
                  ["--dim", d, "--integrator", "gd", "--dt", repr(dt), "--steps", steps[-1],
                   "--t-end", repr(gtimes[-1]), "--times", times_arg(gtimes), "--out", gd_dir, "--snapshots"])
        run_cli(cli, gd_cmd)
        z0 = np.concatenate([x0, y0])
        zs = mr.gd_trajectory(A, z0, dt, steps, case["rates"], case["ex"], case["ey"])
        GX = np.array([zs[k][:model.N] for k in steps])
        GY = np.array([zs[k][model.N:] for k in steps])
        ref0 = mr.metrics_reference(y0, A, x0)
        grows, gdiag = [], []
        for k in steps:
            r, dg = mr.state_metrics(A, zs[k][:model.N], zs[k][model.N:], ref0)
            grows.append(r)
            gdiag.append(dg)
        summ = check_run_against(ck, gd_dir, model, gtimes, GX, GY, grows, gdiag, d0, "gd", 1e-10, 1e-12)
        snap_gd = load_snapshots(os.path.join(gd_dir, "snapshots.h5"))
        if "step" in snap_gd:
            ck.ok(list(snap_gd["step"]) == steps, f"gd: /step {list(snap_gd['step'])}, want {steps}")
        # gd must refuse an unstable step up front
        bad_dir = os.path.join(cdir, "gd_unstable")
        bad_dt = 2.0 / model.fast_rate * 1.01
        p = run_cli(cli, ["run"] + data + margs + case["seed"] +
                    ["--dim", d, "--integrator", "gd", "--dt", repr(bad_dt), "--steps", 10,
                     "--t-end", repr(10 * bad_dt), "--out", bad_dir], expect_ok=False)
        ck.ok(p.returncode != 0, f"gd: dt*fast_rate = 2.02 refused (exit {p.returncode})")
        ck.ok(not os.path.exists(os.path.join(bad_dir, "metrics.csv")), "gd: refused run leaves no metrics.csv")
        del summ


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="path to the repcollapse binary")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", help="keep the work files in this directory")
    ap.add_argument("--only", help="run only cases whose name contains this")
    args = ap.parse_args()
    cli = os.path.abspath(args.cli)
    if not os.access(cli, os.X_OK):
        print(f"not an executable: {cli}")
        print("0 passed, 1 failed")
        return 1
    ck = Checker(args.verbose)
    work = args.keep or tempfile.mkdtemp(prefix="rc_ref_")
    os.makedirs(work, exist_ok=True)
    t_start = time.time()
    try:
        for case in CASES:
            if args.only and args.only not in case["name"]:
                continue
            t0 = time.time()
            try:
                run_case(ck, cli, case, work)
            except Exception as e:  # a crash of one case is one failure; go on
                ck.ok(False, f"case aborted: {type(e).__name__}: {e}")
                if args.verbose:
                    traceback.print_exc()
            if args.verbose:
                print(f"     [{case['name']}] {time.time() - t0:.2f} s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"({time.time() - t_start:.1f} s)")
    print(f"{ck.passed} passed, {ck.failed} failed")
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
