#!/usr/bin/python3
"""Independent dense NumPy reference of repcollapse's minimal model (docs/model.md s. 1-2).

Brute force on purpose: the full (N+K) x (N+K) matrix J of dz/dt = -J z is
built explicitly and diagonalised with numpy.linalg.eigh. None of the
reductions the C code uses (group reduction, K x K problem, closed-form fixed
point) appear here, so agreement is a real check.

State layout: z = [x_0..x_{N-1}, y_0..y_{K-1}] (nodes), each node a row in R^d.
The d coordinates evolve independently under the same J.

    dx_i/dt = -s_i sum_c A_ic (x_i - y_c),   dy_c/dt = -s_c sum_i A_ic (y_c - x_i)
    uniform: s_i = eta_x / M,  s_c = eta_y / M
    degree:  s_i = eta_x / a_i, s_c = eta_y / b_c

So J = S Lap with Lap the Laplacian of the bipartite sample-label graph
(weights A) and S = diag(s). J is similar to the symmetric
Js = S^{1/2} Lap S^{1/2} = S^{-1/2} J S^{1/2}; with Js = V diag(lam) V^T,
    expm(-J t) = S^{1/2} V diag(exp(-lam t)) V^T S^{-1/2}.
The t -> infinity state is the projection onto the null space of Js
(zero eigenvectors), mapped back the same way.

Usable as a module (see the functions below) or as a script:
    minimal_ref.py spectrum --observations obs.csv [--rates degree --eta-x 1 --eta-y 1]
                            [--init snapshots.h5]
    minimal_ref.py run --observations obs.csv --init snapshots.h5 [--times 0,1,10]
                       [model options] [--out DIR]
Only numpy (and h5py for --init) are needed.
"""

import argparse
import csv
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nc_ref  # noqa: E402  (section 6.4, the same directory)

# ----------------------------------------------------------------------------
# data


def read_observations(path):
    """Read a `sample,label` CSV (header optional, '#' comments and blank lines
    skipped, repeats add up) into the dense pair weight matrix A (N x K)."""
    pairs = []
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), 1):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0].strip().startswith("#"):
                continue
            if [c.strip() for c in row] == ["sample", "label"]:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'sample,label', got {row!r}")
            pairs.append((int(row[0]), int(row[1])))
    if not pairs:
        raise ValueError(f"{path}: no observations")
    return observations_to_matrix(pairs)


def observations_to_matrix(pairs, n_samples=0, n_classes=0):
    pairs = np.asarray(pairs, dtype=np.int64)
    if (pairs < 0).any():
        raise ValueError("negative sample or label index")
    N = max(int(pairs[:, 0].max()) + 1, n_samples)
    K = max(int(pairs[:, 1].max()) + 1, n_classes)
    A = np.zeros((N, K))
    np.add.at(A, (pairs[:, 0], pairs[:, 1]), 1.0)
    empty_rows = np.where(A.sum(axis=1) == 0)[0]
    if empty_rows.size:
        raise ValueError(f"sample {empty_rows[0]} has no observation")
    empty_cols = np.where(A.sum(axis=0) == 0)[0]
    if empty_cols.size:
        raise ValueError(f"class {empty_cols[0]} has no observation")
    return A


def clean_mask(A):
    return (A > 0).sum(axis=1) == 1


def class_graph_components(A):
    """Components of the class graph (edge a-b for a frustrated sample seen
    with both), as sorted lists of classes, ordered by smallest class."""
    K = A.shape[1]
    parent = list(range(K))

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for row in A:
        cs = np.nonzero(row)[0]
        for c in cs[1:]:
            ra, rb = find(int(cs[0])), find(int(c))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups = {}
    for c in range(K):
        groups.setdefault(find(c), []).append(c)
    return sorted(groups.values(), key=lambda g: g[0])


# ----------------------------------------------------------------------------
# the dense operator


def node_rates(A, rates="degree", eta_x=1.0, eta_y=1.0):
    a = A.sum(axis=1)
    b = A.sum(axis=0)
    M = A.sum()
    if rates == "degree":
        return np.concatenate([eta_x / a, eta_y / b])
    if rates == "uniform":
        return np.concatenate([np.full(A.shape[0], eta_x / M), np.full(A.shape[1], eta_y / M)])
    raise ValueError(f"unknown rate scheme {rates!r}")


def build_laplacian(A):
    """Laplacian of the bipartite sample-label graph with weights A, (N+K)^2."""
    N, K = A.shape
    W = np.zeros((N + K, N + K))
    W[:N, N:] = A
    W[N:, :N] = A.T
    return np.diag(W.sum(axis=1)) - W


def build_J(A, rates="degree", eta_x=1.0, eta_y=1.0):
    """Dense J with dz/dt = -J z (per coordinate), and the node rates s."""
    s = node_rates(A, rates, eta_x, eta_y)
    return s[:, None] * build_laplacian(A), s


def vector_field(A, z, rates="degree", eta_x=1.0, eta_y=1.0):
    """F(z) = -J z written directly from the equations of motion (no matrix);
    z is (N+K) x d. Used for gd and as a check of build_J."""
    N, K = A.shape
    s = node_rates(A, rates, eta_x, eta_y)
    x, y = z[:N], z[N:]
    a = A.sum(axis=1)
    b = A.sum(axis=0)
    dx = -(a[:, None] * x - A @ y) * s[:N, None]
    dy = -(b[:, None] * y - A.T @ x) * s[N:, None]
    return np.concatenate([dx, dy])


class Model:
    """Dense eigendecomposition of J for one data set and rate scheme."""

    def __init__(self, A, rates="degree", eta_x=1.0, eta_y=1.0):
        self.A = np.asarray(A, dtype=float)
        self.N, self.K = self.A.shape
        self.rates, self.eta_x, self.eta_y = rates, float(eta_x), float(eta_y)
        self.J, self.s = build_J(self.A, rates, eta_x, eta_y)
        rs = np.sqrt(self.s)
        Js = rs[:, None] * build_laplacian(self.A) * rs[None, :]
        Js = 0.5 * (Js + Js.T)
        lam, V = np.linalg.eigh(Js)
        self.lam, self.V = lam, V
        self.sqrt_s = rs
        self.fast_rate = float(lam.max())
        self.tol = 1e-9 * self.fast_rate
        self.zero = lam < self.tol
        self.zero_modes = int(self.zero.sum())
        self.distinct = merge_rates(lam[~self.zero], self.tol)
        self.slow_rate = self.distinct[0][0] if self.distinct else 0.0
        self.next_rate = self.distinct[1][0] if len(self.distinct) > 1 else self.slow_rate

    # z is (N+K) x d
    def _to_sym(self, z):
        return z / self.sqrt_s[:, None]

    def _from_sym(self, w):
        return w * self.sqrt_s[:, None]

    def propagate(self, z0, times):
        """z(t) = expm(-J t) z0 for each t; returns array (T, N+K, d)."""
        c = self.V.T @ self._to_sym(z0)  # modal coordinates, (N+K) x d
        out = []
        for t in times:
            decay = np.exp(-np.where(self.zero, 0.0, self.lam) * t)
            out.append(self._from_sym(self.V @ (decay[:, None] * c)))
        return np.array(out)

    def stationary(self, z0):
        """t -> infinity: projection onto the null space of Js (the kernel of J,
        along its range), mapped back."""
        V0 = self.V[:, self.zero]
        return self._from_sym(V0 @ (V0.T @ self._to_sym(z0)))

    def spectrum_dict(self):
        return {
            "zero_modes": self.zero_modes,
            "components": class_graph_components(self.A),
            "slow_rate": self.slow_rate,
            "next_rate": self.next_rate,
            "fast_rate": self.fast_rate,
            "rates": [[r, m] for r, m in self.distinct],
        }


def merge_rates(values, tol):
    """Sorted values merged into (mean, multiplicity): a new cluster starts
    when the gap to the previous value exceeds tol."""
    v = np.sort(np.asarray(values, dtype=float))
    out = []
    start = 0
    for k in range(1, len(v) + 1):
        if k == len(v) or v[k] - v[k - 1] > tol:
            out.append((float(v[start:k].mean()), k - start))
            start = k
    return out


def gd_trajectory(A, z0, dt, steps_wanted, rates="degree", eta_x=1.0, eta_y=1.0):
    """Plain gradient descent z <- z + dt F(z); returns {step: z} for the
    requested step indices."""
    wanted = sorted(set(int(s) for s in steps_wanted))
    out = {}
    z = np.array(z0, dtype=float)
    k = 0
    for target in wanted:
        while k < target:
            z = z + dt * vector_field(A, z, rates, eta_x, eta_y)
            k += 1
        out[target] = z.copy()
    return out


# ----------------------------------------------------------------------------
# metrics (docs/model.md section 2)

METRIC_NAMES = [
    "loss", "accuracy", "accuracy_frustrated", "margin", "min_label_distance",
    "mean_label_distance", "within_class_spread", "label_effective_rank",
    # section 6.0: scale-free, appended after the paper's
    "relative_label_distance", "angular_label_distance",
    # section 6.4: neural collapse and rankme (tests/reference/nc_ref.py)
] + nc_ref.NC_NAMES


def label_distances(y):
    K = y.shape[0]
    diff = y[:, None, :] - y[None, :, :]
    dist = np.sqrt((diff ** 2).sum(axis=2))
    iu = np.triu_indices(K, 1)
    return dist[iu]


def centred_gram_trace(y):
    yc = y - y.mean(axis=0)
    return float((yc ** 2).sum())


def metrics_reference(y0, A=None, x0=None):
    """D(0), the initial centred Gram trace and (with A and x0) Tr Sigma_B(0)."""
    ref = {"d0": float(label_distances(y0).min()), "trace0": centred_gram_trace(y0), "trace_b0": 0.0}
    if A is not None and x0 is not None:
        ref["trace_b0"] = nc_ref.trace_b(clean_labels(A), x0, A.shape[1])
    return ref


def clean_labels(A):
    """each sample's label if it has one, -1 if frustrated"""
    return np.where(clean_mask(A), np.argmax(A, axis=1), -1)


def state_metrics(A, x, y, ref):
    """Every metric of one state. Returns (values dict, diagnostics dict);
    a null metric is None. Diagnostics report how close the nearest-label
    decisions are to a tie (for the comparison's skip rule)."""
    N, K = A.shape
    M = A.sum()
    clean = clean_mask(A)
    own = np.argmax(A, axis=1)  # valid for clean samples
    d2 = ((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)  # N x K
    dist = np.sqrt(d2)
    out = {}
    out["loss"] = float((A * d2).sum() / (2.0 * M))

    order = np.argsort(dist, axis=1, kind="stable")
    nearest = order[:, 0]
    gap12 = dist[np.arange(N), order[:, 1]] - dist[np.arange(N), order[:, 0]] if K > 1 else np.full(N, np.inf)
    strict = gap12 > 0  # a tie counts as wrong

    diag = {"min_gap_clean": math.inf, "min_gap_frustrated": math.inf}
    if clean.any():
        ok = strict & (nearest == own)
        out["accuracy"] = float(ok[clean].mean())
        diag["min_gap_clean"] = float(gap12[clean].min())
        ic = np.where(clean)[0]
        d_own = dist[ic, own[ic]]
        other = dist[ic].copy()
        other[np.arange(ic.size), own[ic]] = np.inf
        d_other = other.min(axis=1)
        out["margin"] = float(((d_other - d_own) / ref["d0"]).mean())
        out["within_class_spread"] = float((d2[ic, own[ic]]).mean())
    else:
        out["accuracy"] = None
        out["margin"] = None
        out["within_class_spread"] = None
    fr = ~clean
    if fr.any():
        seen = A > 0
        ok = strict & seen[np.arange(N), nearest]
        out["accuracy_frustrated"] = float(ok[fr].mean())
        diag["min_gap_frustrated"] = float(gap12[fr].min())
    else:
        out["accuracy_frustrated"] = None

    ld = label_distances(y)
    out["min_label_distance"] = float(ld.min())
    out["mean_label_distance"] = float(ld.mean())

    yc = y - y.mean(axis=0)
    G = yc @ yc.T
    tr = float(np.trace(G))
    diag["trace_ratio"] = tr / ref["trace0"]
    if tr < 1e-24 * ref["trace0"]:
        out["label_effective_rank"] = None
    else:
        l = np.linalg.eigvalsh(0.5 * (G + G.T))
        out["label_effective_rank"] = float(l.sum() ** 2 / (l ** 2).sum())
    # D relative to the labels' rms about the origin; the closest pair of directions
    rms = math.sqrt(float((y ** 2).sum()) / K)
    out["relative_label_distance"] = float(ld.min()) / rms if rms > 0 else None
    norms = np.sqrt((y ** 2).sum(axis=1))
    out["angular_label_distance"] = float(label_distances(y / norms[:, None]).min()) if (norms > 0).all() else None
    nc, nc_diag = nc_ref.nc_metrics(clean_labels(A), x, y, ref.get("trace_b0", 0.0), ref["trace0"])
    out.update(nc)
    diag["nc"] = nc_diag
    diag["hmax"] = float(np.abs(x).max()) if x.size else 0.0
    return {k: out[k] for k in METRIC_NAMES}, diag


def collapse_time(t, D, d0, eps=1e-2):
    """First t with D(t) <= eps D(0), log D interpolated linearly in t between
    recorded times; None if none."""
    thr = eps * d0
    for k in range(len(t)):
        if D[k] <= thr:
            if k == 0:
                return float(t[0])
            if D[k] <= 0.0:
                return float(t[k])  # log D -> -inf: crossing at the recorded time at the latest
            la, lb, lt = math.log(D[k - 1]), math.log(D[k]), math.log(thr)
            return float(t[k - 1] + (t[k] - t[k - 1]) * (la - lt) / (la - lb))
    return None


def exact_collapse_time(model, z0, t_end, eps=1e-2, t_min=None):
    """collapse_time of the exact trajectory, independent of any recorded
    times: D(t) from the full eigendecomposition on the geometric grid 0,
    t_min, 1.01 t_min, ..., t_end (t_min = 0.01 / fast_rate by default), then
    scipy's brentq on the first interval where D(t) - eps D(0) changes sign.
    None if D(t) > eps D(0) on the whole grid."""
    from scipy.optimize import brentq
    N = model.N
    c = model.V.T @ model._to_sym(z0)
    rates = np.where(model.zero, 0.0, model.lam)
    Vy = model.V[N:]  # label rows

    def D(t):
        y = (Vy @ (np.exp(-rates * t)[:, None] * c)) * model.sqrt_s[N:, None]
        return float(label_distances(y).min())

    d0 = float(label_distances(z0[N:]).min())
    if not d0 > 0:
        return None
    thr = eps * d0
    t_min = 1e-2 / model.fast_rate if t_min is None else t_min
    if not (t_min > 0) or t_min > t_end:
        t_min = t_end
    lo, hi = 0.0, t_min
    while True:
        f_hi = D(hi) - thr
        if f_hi <= 0:
            break
        if hi >= t_end:
            return None
        lo, hi = hi, min(hi * 1.01, t_end)
    if f_hi == 0:
        return float(hi)
    return float(brentq(lambda t: D(t) - thr, lo, hi, xtol=1e-14 * hi, rtol=1e-14, maxiter=200))


def fitted_slow_rate(t, D, d0, t_start):
    """Least-squares slope of -log D over t >= t_start with D > 1e-10 D(0);
    None with fewer than 3 points, and None when D does not decay over the
    window (slope <= 0, or log D falls by less than 0.01 from the first to the
    last selected time: docs/theory.md section 6)."""
    t = np.asarray(t, float)
    D = np.asarray(D, float)
    sel = (t >= t_start) & (D > 1e-10 * d0)
    if sel.sum() < 3:
        return None
    tt, yy = t[sel], -np.log(D[sel])
    tm = tt.mean()
    slope = float(((tt - tm) * (yy - yy.mean())).sum() / ((tt - tm) ** 2).sum())
    first, last = np.argmin(tt), np.argmax(tt)
    if not slope > 0 or yy[last] - yy[first] < 1e-2:
        return None
    return slope


def fit_window(model):
    """t_start of fitted_slow_rate: 5 / lambda_next."""
    return 5.0 / model.next_rate if model.next_rate > 0 else math.inf


def trajectory_metrics(model, x0, y0, times, eps=1e-2):
    """Propagate exactly and compute every metric at each time, plus the
    summaries. Returns a dict with 'X' (T,N,d), 'Y' (T,K,d), 'rows' (list of
    metric dicts), 'diag', 'collapse_time', 'fitted_slow_rate', 'final_state',
    'final_min_label_distance'."""
    N = model.N
    z0 = np.concatenate([x0, y0])
    Z = model.propagate(z0, times)
    ref = metrics_reference(y0, model.A, x0)
    rows, diags = [], []
    for k in range(len(times)):
        r, dg = state_metrics(model.A, Z[k, :N], Z[k, N:], ref)
        rows.append(r)
        diags.append(dg)
    D = [r["min_label_distance"] for r in rows]
    zinf = model.stationary(z0)
    return {
        "X": Z[:, :N], "Y": Z[:, N:], "rows": rows, "diag": diags, "ref": ref,
        "collapse_time": collapse_time(times, D, ref["d0"], eps),
        "collapse_time_exact": exact_collapse_time(model, z0, float(times[-1]), eps),
        "fitted_slow_rate": fitted_slow_rate(times, D, ref["d0"], fit_window(model)),
        "final_state": zinf,
        "final_min_label_distance": float(label_distances(zinf[N:]).min()),
    }


# ----------------------------------------------------------------------------
# script


def _load_init(path):
    import h5py
    with h5py.File(path, "r") as f:
        t = np.asarray(f["t"])
        if t[0] != 0.0:
            raise ValueError(f"{path}: first recorded time is {t[0]}, not 0")
        return np.asarray(f["samples"][0]), np.asarray(f["labels"][0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["spectrum", "run"])
    ap.add_argument("--observations", required=True)
    ap.add_argument("--rates", default="degree", choices=["degree", "uniform"])
    ap.add_argument("--eta-x", type=float, default=1.0)
    ap.add_argument("--eta-y", type=float, default=1.0)
    ap.add_argument("--init", help="snapshots.h5 whose first row is the initial state")
    ap.add_argument("--times", default="0,1,10,100")
    ap.add_argument("--eps", type=float, default=1e-2)
    ap.add_argument("--out", help="directory for metrics.csv and summary.json (run)")
    args = ap.parse_args(argv)

    A = read_observations(args.observations)
    model = Model(A, args.rates, args.eta_x, args.eta_y)
    if args.command == "spectrum":
        d = model.spectrum_dict()
        if args.init:
            x0, y0 = _load_init(args.init)
            zinf = model.stationary(np.concatenate([x0, y0]))
            d["final_min_label_distance"] = float(label_distances(zinf[model.N:]).min())
        print(json.dumps(d))
        return 0
    if not args.init:
        ap.error("run needs --init")
    x0, y0 = _load_init(args.init)
    times = [float(v) for v in args.times.split(",")]
    res = trajectory_metrics(model, x0, y0, times, args.eps)
    lines = ["t," + ",".join(METRIC_NAMES)]
    for t, r in zip(times, res["rows"]):
        lines.append(repr(t) + "," + ",".join("" if r[m] is None else repr(r[m]) for m in METRIC_NAMES))
    summary = {
        "final": res["rows"][-1],
        "collapse_time": res["collapse_time"],
        "fitted_slow_rate": res["fitted_slow_rate"],
        "final_min_label_distance": res["final_min_label_distance"],
        "spectrum": model.spectrum_dict(),
    }
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "metrics.csv"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
        with open(os.path.join(args.out, "summary.json"), "w") as fh:
            json.dump(summary, fh, indent=1)
    else:
        print("\n".join(lines))
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
