#!/usr/bin/python3
"""Independent NumPy reference of repcollapse's projection-head models
(docs/model.md section 3): terms, hand-derived gradients, particle dynamics,
fixed-step RK4 and plain gd, and the metrics with P x_i in place of x_i.

Nothing here is shared with the C code or with minimal_ref.py: the terms are
parsed from their text, the gradients are derived below by hand, and the
self-test checks them against a brute-force per-observation formula and
against finite differences of the loss (stop-gradient targets frozen).

Conventions. Arrays hold one embedding per row: X (N x d), Y (K x d). The head
P (d x d) acts on column vectors, (P x)_a = sum_b P[a, b] x_b, so the rows of
X @ P.T are the P x_i. A (N x K) counts the observations, a_i = sum_c A_ic,
b_c = sum_i A_ic, M = sum A.

A term  w * (1/2M) sum_ic A_ic |H_s u - sg?(H_t v)|^2  has a source
embedding u (x_i or y_c), a target v (the other one), H_s, H_t in {I, P}.
Write S_u = H_s u, T_v = H_t v, r_uv = S_u - T_v, and (for source x)
R_i = sum_c A_ic r_ic = a_i S_i - H_t (A Y)_i, R'_c = sum_i A_ic r_ic =
(A^T S)_c - b_c T_c. Differentiating |r|^2 / 2:

    dL/du_i = (w/M) H_s^T R_i                                (always)
    dL/dv_c = -(w/M) H_t^T R'_c                              (no sg only)
    dL/dP  += (w/M) sum_i R_i u_i^T                          (H_s = P)
    dL/dP  -= (w/M) sum_c R'_c v_c^T                         (H_t = P, no sg)
    L       = (w/2M) [sum_i a_i |S_i|^2 - 2 sum_ic A_ic S_i.T_c + sum_c b_c |T_c|^2]

(source y: the same with A -> A^T, a <-> b). With sg the target is a constant:
no gradient into v, and none into P through H_t.

Dynamics (rate scheme of docs/model.md section 2):
    dx_i/dt = -eta_x g_x(i) / (a_i / M)   (degree)   or  -eta_x g_x(i)  (uniform)
    dy_c/dt = -eta_y g_y(c) / (b_c / M)   (degree)   or  -eta_y g_y(c)  (uniform)
    dP/dt   = -eta_P g_P
with g the sum of the terms' gradients.

Usable as a module or as a script:
    head_ref.py selftest
    head_ref.py run --observations obs.csv --init snapshots.h5 (--model M | --terms SPEC)
                    [--times 0,1,2] [--integrator rk4|gd] [--dt h] [--rates degree|uniform]
                    [--eta-x 1 --eta-y 1 --eta-head 1] [--out DIR]
Only numpy (and h5py for --init) are needed.
"""

import argparse
import csv
import json
import math
import os
import re
import sys

import numpy as np

# ----------------------------------------------------------------------------
# data


def read_observations(path):
    """`sample,label` CSV (optional header, '#' comments, repeats add up) -> A."""
    pairs = []
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), 1):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0].strip().startswith("#") or [c.strip() for c in row] == ["sample", "label"]:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'sample,label', got {row!r}")
            pairs.append((int(row[0]), int(row[1])))
    return pairs_to_matrix(pairs)


def pairs_to_matrix(pairs):
    p = np.asarray(pairs, dtype=np.int64)
    A = np.zeros((int(p[:, 0].max()) + 1, int(p[:, 1].max()) + 1))
    np.add.at(A, (p[:, 0], p[:, 1]), 1.0)
    if (A.sum(axis=1) == 0).any() or (A.sum(axis=0) == 0).any():
        raise ValueError("a sample or a class has no observation")
    return A


def two_class_data(n, F):
    """n clean samples per class, F samples seen once with class 0 and once with 1."""
    pairs = [(i, c) for c in range(2) for i in range(c * n, (c + 1) * n)]
    for j in range(F):
        pairs += [(2 * n + j, 0), (2 * n + j, 1)]
    return pairs_to_matrix(pairs)


# ----------------------------------------------------------------------------
# terms


class Term:
    """w * (1/2M) sum A |H_s u - sg?(H_t v)|^2; src is 'x' or 'y' (u), the
    target v is the other one."""

    def __init__(self, w, src, src_P, tgt_P, sg):
        self.w, self.src, self.src_P, self.tgt_P, self.sg = float(w), src, bool(src_P), bool(tgt_P), bool(sg)

    def __repr__(self):
        tgt = ("P" if self.tgt_P else "") + ("y" if self.src == "x" else "x")
        return f"{self.w:g}*{'P' if self.src_P else ''}{self.src}-{'sg(' + tgt + ')' if self.sg else tgt}"


PRESETS = {
    "minimal": "x-y",
    "head": "Px-y",
    "siam": "Px-y+Py-x",
    "siam-sg": "Px-sg(y)+Py-sg(x)",
}

_NUM = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_TERM_RE = re.compile(r"^(?:(" + _NUM + r")\*)?(P?)([xy])-(?:(P?)([xy])|sg\((P?)([xy])\))$")


def parse_terms(spec):
    """TERM ('+' TERM)*, TERM = [w '*'] ['P'](x|y) '-' TARGET, TARGET =
    ['P'](x|y) | 'sg(' ['P'](x|y) ')'; the source and target must differ."""
    spec = PRESETS.get(spec, spec)
    s = spec.replace(" ", "")
    # split on '+' that is not part of an exponent
    parts = re.split(r"(?<![eE])\+", s)
    terms = []
    for p in parts:
        m = _TERM_RE.match(p)
        if not m:
            raise ValueError(f"bad term {p!r} in {spec!r}")
        w = float(m.group(1)) if m.group(1) else 1.0
        src_P, src = m.group(2) == "P", m.group(3)
        if m.group(5):
            tgt_P, tgt, sg = m.group(4) == "P", m.group(5), False
        else:
            tgt_P, tgt, sg = m.group(6) == "P", m.group(7), True
        if tgt == src:
            raise ValueError(f"term {p!r}: source and target must be x and y")
        terms.append(Term(w, src, src_P, tgt_P, sg))
    return terms


def has_head(terms):
    return any(t.src_P or t.tgt_P for t in terms)


# ----------------------------------------------------------------------------
# loss and gradients


def _apply(Hflag, P, U):
    return U @ P.T if Hflag else U


def terms_loss(A, terms, X, Y, P):
    M = A.sum()
    a, b = A.sum(axis=1), A.sum(axis=0)
    L = 0.0
    for t in terms:
        if t.src == "x":
            W, U, V, au, bv = A, X, Y, a, b
        else:
            W, U, V, au, bv = A.T, Y, X, b, a
        S = _apply(t.src_P, P, U)
        T = _apply(t.tgt_P, P, V)
        L += t.w / (2 * M) * (np.sum(au * np.sum(S * S, axis=1)) - 2 * np.sum(S * (W @ T))
                              + np.sum(bv * np.sum(T * T, axis=1)))
    return float(L)


def terms_gradients(A, terms, X, Y, P):
    """Raw gradients (gX, gY, gP) of the sum of the terms, stop-gradient
    respected (the hand-derived formulas of the module docstring)."""
    M = A.sum()
    a, b = A.sum(axis=1), A.sum(axis=0)
    d = X.shape[1]
    dt = np.result_type(X, Y, P)
    gX, gY = np.zeros(X.shape, dt), np.zeros(Y.shape, dt)
    gP = np.zeros((d, d), dt)
    for t in terms:
        if t.src == "x":
            W, U, V, au, bv = A, X, Y, a, b
        else:
            W, U, V, au, bv = A.T, Y, X, b, a
        S = _apply(t.src_P, P, U)
        T = _apply(t.tgt_P, P, V)
        R = au[:, None] * S - W @ T          # per source: sum over its observations of r
        Rt = W.T @ S - bv[:, None] * T       # per target: sum over its observations of r
        c = t.w / M
        gU = c * (R @ P if t.src_P else R)   # rows of H_s^T R
        gV = None if t.sg else -c * (Rt @ P if t.tgt_P else Rt)
        if t.src_P:
            gP += c * R.T @ U
        if t.tgt_P and not t.sg:
            gP -= c * Rt.T @ V
        if t.src == "x":
            gX += gU
            if gV is not None:
                gY += gV
        else:
            gY += gU
            if gV is not None:
                gX += gV
    return gX, gY, gP


def terms_gradients_brute(A, terms, X, Y, P):
    """The same gradients by brute force over the observation residual tensor
    r[i, c] (no algebraic rearrangement); for the self-test."""
    M = A.sum()
    d = X.shape[1]
    gX, gY = np.zeros_like(X), np.zeros_like(Y)
    gP = np.zeros((d, d))
    L = 0.0
    Ps = lambda flag: P if flag else np.eye(d)  # noqa: E731
    for t in terms:
        Hs, Ht = Ps(t.src_P), Ps(t.tgt_P)
        for i in range(A.shape[0]):
            for c in range(A.shape[1]):
                if A[i, c] == 0:
                    continue
                u, v = (X[i], Y[c]) if t.src == "x" else (Y[c], X[i])
                r = Hs @ u - Ht @ v
                wgt = t.w * A[i, c] / M
                L += 0.5 * wgt * r @ r
                gu = wgt * Hs.T @ r
                gv = -wgt * Ht.T @ r
                if t.src == "x":
                    gX[i] += gu
                    if not t.sg:
                        gY[c] += gv
                else:
                    gY[c] += gu
                    if not t.sg:
                        gX[i] += gv
                if t.src_P:
                    gP += wgt * np.outer(r, u)
                if t.tgt_P and not t.sg:
                    gP -= wgt * np.outer(r, v)
    return gX, gY, gP, L


def frozen_loss(A, terms, X, Y, P, Xf, Yf, Pf):
    """The terms' loss with every stop-gradient target evaluated at the frozen
    copy (Xf, Yf, Pf): its gradient at (X, Y, P) = (Xf, Yf, Pf) is the sg
    gradient."""
    M = A.sum()
    L = 0.0
    for t in terms:
        if t.src == "x":
            W, U = A, X
            V = Yf if t.sg else Y
        else:
            W, U = A.T, Y
            V = Xf if t.sg else X
        Pt = Pf if t.sg else P
        S = _apply(t.src_P, P, U)
        T = _apply(t.tgt_P, Pt, V)
        diff = S[:, None, :] - T[None, :, :]
        L += t.w / (2 * M) * float(np.sum(W * np.sum(diff * diff, axis=2)))
    return L


# ----------------------------------------------------------------------------
# the model: vector field, integrators


class HeadModel:
    def __init__(self, A, terms, rates="degree", eta_x=1.0, eta_y=1.0, eta_head=1.0):
        self.A = np.asarray(A, float)
        self.terms = parse_terms(terms) if isinstance(terms, str) else list(terms)
        self.N, self.K = self.A.shape
        self.M = self.A.sum()
        self.a, self.b = self.A.sum(axis=1), self.A.sum(axis=0)
        if rates == "degree":
            self.sx = eta_x * self.M / self.a
            self.sy = eta_y * self.M / self.b
        elif rates == "uniform":
            self.sx = np.full(self.N, float(eta_x))
            self.sy = np.full(self.K, float(eta_y))
        else:
            raise ValueError(f"unknown rate scheme {rates!r}")
        self.eta_head = float(eta_head)
        self.head = has_head(self.terms)

    def field(self, X, Y, P):
        gX, gY, gP = terms_gradients(self.A, self.terms, X, Y, P)
        dP = -self.eta_head * gP if self.head else np.zeros_like(P)
        return -self.sx[:, None] * gX, -self.sy[:, None] * gY, dP

    def loss(self, X, Y, P):
        return terms_loss(self.A, self.terms, X, Y, P)

    # state packing (for Jacobians and generic steppers)
    def pack(self, X, Y, P):
        return np.concatenate([X.ravel(), Y.ravel(), P.ravel()])

    def unpack(self, z, d):
        n1, n2 = self.N * d, (self.N + self.K) * d
        return z[:n1].reshape(self.N, d), z[n1:n2].reshape(self.K, d), z[n2:].reshape(d, d)

    def rk4_step(self, X, Y, P, h):
        k1 = self.field(X, Y, P)
        k2 = self.field(X + 0.5 * h * k1[0], Y + 0.5 * h * k1[1], P + 0.5 * h * k1[2])
        k3 = self.field(X + 0.5 * h * k2[0], Y + 0.5 * h * k2[1], P + 0.5 * h * k2[2])
        k4 = self.field(X + h * k3[0], Y + h * k3[1], P + h * k3[2])
        return tuple(s + h / 6.0 * (q1 + 2 * q2 + 2 * q3 + q4) for s, q1, q2, q3, q4 in zip((X, Y, P), k1, k2, k3, k4))

    def rk4(self, X0, Y0, P0, times, h=1e-3):
        """Fixed-step classical RK4; each interval between recorded times is cut
        into ceil(dt / h) equal steps. Returns lists of X, Y, P at the times."""
        X, Y, P = np.array(X0, float), np.array(Y0, float), np.array(P0, float)
        t = 0.0
        out = ([], [], [])
        for T in times:
            if T < t - 1e-15:
                raise ValueError("times must increase from 0")
            n = int(math.ceil((T - t) / h - 1e-9)) if T > t else 0
            hh = (T - t) / n if n else 0.0
            for _ in range(n):
                X, Y, P = self.rk4_step(X, Y, P, hh)
            t = T
            for o, s in zip(out, (X, Y, P)):
                o.append(s.copy())
        return [np.array(o) for o in out]

    def gd(self, X0, Y0, P0, dt, steps_wanted):
        """z <- z + dt F(z), every embedding and P every step; returns
        {step: (X, Y, P)} for the requested step counts."""
        X, Y, P = np.array(X0, float), np.array(Y0, float), np.array(P0, float)
        out, k = {}, 0
        for s in sorted(set(int(v) for v in steps_wanted)):
            while k < s:
                dX, dY, dP = self.field(X, Y, P)
                X, Y, P = X + dt * dX, Y + dt * dY, P + dt * dP
                k += 1
            out[s] = (X.copy(), Y.copy(), P.copy())
        return out


# ----------------------------------------------------------------------------
# metrics (docs/model.md section 2, with P x_i on the sample side)

METRIC_NAMES = ["loss", "accuracy", "accuracy_frustrated", "margin", "min_label_distance",
                "mean_label_distance", "within_class_spread", "label_effective_rank"]


def pair_distances(Y):
    K = Y.shape[0]
    iu = np.triu_indices(K, 1)
    D = np.sqrt(((Y[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2))
    return D[iu]


def metrics(model, X, Y, P, d0, trace0):
    """All metrics of one state; None is null. Also returns the smallest gap
    between nearest and second-nearest label (to skip tie-sensitive checks)."""
    A = model.A
    N, K = A.shape
    Z = X @ P.T if model.head else X
    clean = (A > 0).sum(axis=1) == 1
    own = np.argmax(A, axis=1)
    d2 = ((Z[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)
    dist = np.sqrt(d2)
    out = {"loss": model.loss(X, Y, P)}
    srt = np.sort(dist, axis=1)
    gap = srt[:, 1] - srt[:, 0] if K > 1 else np.full(N, np.inf)
    nearest = np.argmin(dist, axis=1)
    strict = gap > 0
    if clean.any():
        ic = np.where(clean)[0]
        out["accuracy"] = float((strict & (nearest == own))[ic].mean())
        other = dist[ic].copy()
        other[np.arange(ic.size), own[ic]] = np.inf
        out["margin"] = float(((other.min(axis=1) - dist[ic, own[ic]]) / d0).mean())
        out["within_class_spread"] = float(d2[ic, own[ic]].mean())
    else:
        out["accuracy"] = out["margin"] = out["within_class_spread"] = None
    if (~clean).any():
        ok = strict & (A[np.arange(N), nearest] > 0)
        out["accuracy_frustrated"] = float(ok[~clean].mean())
    else:
        out["accuracy_frustrated"] = None
    ld = pair_distances(Y)
    out["min_label_distance"] = float(ld.min())
    out["mean_label_distance"] = float(ld.mean())
    Yc = Y - Y.mean(axis=0)
    G = Yc @ Yc.T
    tr = float(np.trace(G))
    if tr < 1e-24 * trace0:
        out["label_effective_rank"] = None
    else:
        lam = np.linalg.eigvalsh(0.5 * (G + G.T))
        out["label_effective_rank"] = float(lam.sum() ** 2 / (lam ** 2).sum())
    return {k: out[k] for k in METRIC_NAMES}, float(gap.min())


def trajectory_metrics(model, Xs, Ys, Ps):
    d0 = float(pair_distances(Ys[0]).min())
    Yc = Ys[0] - Ys[0].mean(axis=0)
    trace0 = float((Yc ** 2).sum())
    rows, gaps = [], []
    for X, Y, P in zip(Xs, Ys, Ps):
        r, g = metrics(model, X, Y, P, d0, trace0)
        rows.append(r)
        gaps.append(g)
    return rows, gaps


def separation_gains(Y, P, tol=1e-9):
    """[a, b, |P (y_a - y_b)| / |y_a - y_b|] for a < b (None when the pair has
    collapsed below tol times the largest separation)."""
    K = Y.shape[0]
    D = pair_distances(Y)
    dmax = D.max() if D.size else 0.0
    out = []
    for a in range(K):
        for b_ in range(a + 1, K):
            v = Y[a] - Y[b_]
            nv = np.linalg.norm(v)
            out.append([a, b_, float(np.linalg.norm(P @ v) / nv) if nv > tol * dmax and nv > 0 else None])
    return out


# ----------------------------------------------------------------------------
# self-test


class _Check:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)
        return cond


def _random_data(rng, K, sizes, n_fr, max_rep=2):
    pairs, i = [], 0
    for c in range(K):
        for _ in range(sizes[c]):
            pairs += [(i, c)] * int(rng.integers(1, max_rep + 1))
            i += 1
    for _ in range(n_fr):
        a, b = rng.choice(K, 2, replace=False)
        pairs += [(i, int(a))] * int(rng.integers(1, max_rep + 1)) + [(i, int(b))] * int(rng.integers(1, max_rep + 1))
        i += 1
    return pairs_to_matrix(pairs)


def selftest(verbose=False):
    ck = _Check()
    rng = np.random.default_rng(20260412)

    # 1. parser
    specs = {
        "siam-sg": [("x", True, False, True), ("y", True, False, True)],
        "siam": [("x", True, False, False), ("y", True, False, False)],
        "0.5*Px-sg(Py)+2e-1*y-x": [("x", True, True, True), ("y", False, False, False)],
    }
    for spec, want in specs.items():
        got = [(t.src, t.src_P, t.tgt_P, t.sg) for t in parse_terms(spec)]
        ck(got == want, f"parse {spec}: {got}")
    ck(abs(parse_terms("2e-1*y-x")[0].w - 0.2) < 1e-15, "parse weight with exponent")
    for bad in ["x-x", "Px-sg(y", "Qx-y", "x+y", "", "P*x-y"]:
        try:
            parse_terms(bad)
            ck(False, f"parse should refuse {bad!r}")
        except ValueError:
            ck(True, "")

    # 2. gradients: matrix form = brute force = finite differences of the
    #    loss with frozen sg targets; every preset and some custom terms.
    A = _random_data(rng, 3, [3, 2, 4], 3)
    N, K = A.shape
    d = 3
    all_specs = list(PRESETS) + ["0.7*Px-Py+1.5*y-sg(Px)", "x-Py+0.5*Py-sg(x)", "Px-sg(Py)+0.3*y-Px"]
    for spec in all_specs:
        terms = parse_terms(spec)
        X = rng.standard_normal((N, d))
        Y = rng.standard_normal((K, d))
        P = np.eye(d) + 0.4 * rng.standard_normal((d, d))
        gX, gY, gP = terms_gradients(A, terms, X, Y, P)
        bX, bY, bP, bL = terms_gradients_brute(A, terms, X, Y, P)
        ck(abs(bL - terms_loss(A, terms, X, Y, P)) < 1e-12 * max(1, bL), f"{spec}: loss formula vs brute force")
        ck(max(np.abs(gX - bX).max(), np.abs(gY - bY).max(), np.abs(gP - bP).max()) < 1e-12,
           f"{spec}: gradient formulas vs brute force")
        z0 = np.concatenate([X.ravel(), Y.ravel(), P.ravel()])
        h = 1e-6
        fd = np.zeros_like(z0)
        for k in range(z0.size):
            zp, zm = z0.copy(), z0.copy()
            zp[k] += h
            zm[k] -= h
            def L_of(z):
                Xz = z[:N * d].reshape(N, d)
                Yz = z[N * d:(N + K) * d].reshape(K, d)
                Pz = z[(N + K) * d:].reshape(d, d)
                return frozen_loss(A, terms, Xz, Yz, Pz, X, Y, P)
            fd[k] = (L_of(zp) - L_of(zm)) / (2 * h)
        g = np.concatenate([gX.ravel(), gY.ravel(), (gP if has_head(terms) else 0 * gP).ravel()])
        if not has_head(terms):  # P does not enter the loss: its FD gradient is zero
            g[(N + K) * d:] = 0.0
        err = np.abs(fd - g).max()
        ck(err < 1e-7 * max(1.0, np.abs(g).max()), f"{spec}: FD gradient (frozen sg), max err {err:.3g}")
        # the frozen loss at its own point is the loss
        ck(abs(frozen_loss(A, terms, X, Y, P, X, Y, P) - terms_loss(A, terms, X, Y, P)) < 1e-12,
           f"{spec}: frozen loss = loss")

    # 3. rate schemes
    terms = parse_terms("siam-sg")
    X = rng.standard_normal((N, d))
    Y = rng.standard_normal((K, d))
    P = np.eye(d) + 0.2 * rng.standard_normal((d, d))
    gX, gY, gP = terms_gradients(A, terms, X, Y, P)
    M = A.sum()
    m = HeadModel(A, terms, "degree", 0.7, 1.3, 0.4)
    fX, fY, fP = m.field(X, Y, P)
    ck(np.allclose(fX, -0.7 * gX / (A.sum(1)[:, None] / M), atol=1e-14, rtol=1e-13)
       and np.allclose(fY, -1.3 * gY / (A.sum(0)[:, None] / M), atol=1e-14, rtol=1e-13)
       and np.allclose(fP, -0.4 * gP, atol=1e-15), "degree field")
    m = HeadModel(A, terms, "uniform", 0.7, 1.3, 0.4)
    fX, fY, fP = m.field(X, Y, P)
    ck(np.allclose(fX, -0.7 * gX) and np.allclose(fY, -1.3 * gY), "uniform field")
    # degree, siam-sg: dx_i/dt = -P^T (P x_i - ybar_i), dy_c/dt = -P^T (P y_c - xbar_c)
    m = HeadModel(A, terms, "degree")
    fX, fY, fP = m.field(X, Y, P)
    ybar = (A @ Y) / A.sum(1)[:, None]
    xbar = (A.T @ X) / A.sum(0)[:, None]
    ck(np.allclose(fX, -(X @ P.T - ybar) @ P, atol=1e-13) and np.allclose(fY, -(Y @ P.T - xbar) @ P, atol=1e-13),
       "siam-sg degree field in closed form")
    # the minimal preset with P = I equals the dense Laplacian dynamics
    mm = HeadModel(A, "minimal", "degree")
    fX, fY, fP = mm.field(X, Y, P)
    ck(np.allclose(fX, -(X - ybar), atol=1e-13) and np.allclose(fY, -(Y - xbar), atol=1e-13)
       and not fP.any(), "minimal degree field")

    # 4. gradient flows: siam (sg removed), head, minimal and custom terms
    #    without sg: F = -S grad L and L decreases along the RK4 trajectory;
    #    siam-sg: F is not S times any gradient (its S^-1-scaled Jacobian is
    #    not symmetric).
    for spec in ["siam", "head", "minimal", "0.7*Px-Py+1.5*y-Px"]:
        for rates in ["degree", "uniform"]:
            m = HeadModel(A, spec, rates, 1.0, 1.0, 0.8)
            X = 0.7 * rng.standard_normal((N, d))
            Y = 0.7 * rng.standard_normal((K, d))
            P = np.eye(d) + 0.3 * rng.standard_normal((d, d))
            times = np.linspace(0, 4, 41)
            Xs, Ys, Ps = m.rk4(X, Y, P, times, h=2e-3)
            Ls = np.array([m.loss(a_, b_, c_) for a_, b_, c_ in zip(Xs, Ys, Ps)])
            ck(bool(np.all(np.diff(Ls) <= 1e-14 * Ls[0])) and Ls[-1] < Ls[0],
               f"{spec} {rates}: loss decreases along the flow ({Ls[0]:.4g} -> {Ls[-1]:.4g})")
            # dL/dt from the field equals -|grad|^2_S
            fX, fY, fP = m.field(X, Y, P)
            gX, gY, gP = terms_gradients(A, m.terms, X, Y, P)
            dLdt = np.sum(gX * fX) + np.sum(gY * fY) + np.sum(gP * fP)
            want = -(np.sum(m.sx[:, None] * gX ** 2) + np.sum(m.sy[:, None] * gY ** 2)
                     + (m.eta_head * np.sum(gP ** 2) if m.head else 0.0))
            ck(abs(dLdt - want) < 1e-12 * max(1, abs(want)), f"{spec} {rates}: dL/dt = -|grad L|_S^2")
    # siam-sg: the Jacobian of S^{-1} F is not symmetric, so no potential exists
    m = HeadModel(A, "siam-sg", "degree")
    X = rng.standard_normal((N, d))
    Y = rng.standard_normal((K, d))
    P = np.eye(d) + 0.3 * rng.standard_normal((d, d))
    J = jacobian(m, X, Y, P)
    scale = np.concatenate([np.repeat(m.sx, d), np.repeat(m.sy, d), np.full(d * d, m.eta_head)])
    Js = J / scale[:, None]
    ck(np.abs(Js - Js.T).max() > 1e-3, "siam-sg is not a gradient flow (asymmetric scaled Jacobian)")
    m = HeadModel(A, "siam", "degree")
    Js = jacobian(m, X, Y, P) / scale[:, None]
    ck(np.abs(Js - Js.T).max() < 1e-10, "siam: scaled Jacobian is symmetric (Hessian of L)")

    # 5. RK4 accuracy: halving the step changes the state by << 1e-10 at h = 2e-3
    m = HeadModel(A, "siam-sg", "degree", 1.0, 1.0, 1.0)
    X = rng.standard_normal((N, d)) / math.sqrt(d)
    Y = rng.standard_normal((K, d)) / math.sqrt(d)
    P = np.eye(d)
    times = [0.0, 0.5, 2.0]
    r1 = m.rk4(X, Y, P, times, h=4e-3)
    r2 = m.rk4(X, Y, P, times, h=2e-3)
    r3 = m.rk4(X, Y, P, times, h=1e-3)
    e12 = max(np.abs(p - q).max() for p, q in zip(r1, r2))
    e23 = max(np.abs(p - q).max() for p, q in zip(r2, r3))
    ck(e23 < 1e-10 and e12 / e23 > 10, f"RK4 fourth order: {e12:.3g} -> {e23:.3g}")
    # gd: one step by hand
    out = m.gd(X, Y, P, 0.1, [0, 1, 2])
    fX, fY, fP = m.field(X, Y, P)
    ck(np.allclose(out[1][0], X + 0.1 * fX, atol=0, rtol=0) and np.allclose(out[1][2], P + 0.1 * fP, atol=0, rtol=0),
       "gd step z + dt F(z)")
    ck(all(np.array_equal(out[0][k], s) for k, s in enumerate((X, Y, P))), "gd step 0 is the initial state")

    # 6. fixed point of siam-sg (degree) constructed from the closed form is
    #    stationary, for the pair pattern (d = 3: centre, separation, one unused
    #    direction)
    for n, F in [(5, 1), (8, 3)]:
        A2 = two_class_data(n, F)
        mu = n / (n + F)
        p = math.sqrt(mu)
        e = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
        ybar_c = 0.3 * e[0]
        Y = np.array([ybar_c + 0.8 * e[1], ybar_c - 0.8 * e[1]])
        P = np.diag([1.0, p, 0.6])
        P[2, 0], P[0, 2] = 0.0, 0.25  # P on the unused direction e2 is free
        ybar = (A2 @ Y) / A2.sum(1)[:, None]
        X = np.linalg.solve(P, ybar.T).T
        m = HeadModel(A2, "siam-sg", "degree")
        res = max(np.abs(v).max() for v in m.field(X, Y, P))
        ck(res < 1e-14, f"siam-sg closed-form fixed point n={n} F={F}: residual {res:.3g}")
        f = F / (2 * n + F)
        L = m.loss(X, Y, P)
        ck(abs(L - 1.6 ** 2 * f / (2 * (1 + f))) < 1e-14, f"fixed-point loss D^2 f/(2(1+f)): {L}")

    # 7. metrics on a hand example (d = 1, P = 2): samples 0,1 class 0, 2 class 1,
    #    3 frustrated; labels at 0 and 1
    A3 = pairs_to_matrix([(0, 0), (1, 0), (2, 1), (3, 0), (3, 1)])
    m = HeadModel(A3, "head", "degree")
    X = np.array([[0.1], [0.3], [0.45], [0.25]])
    Y = np.array([[0.0], [1.0]])
    P = np.array([[2.0]])
    r, _ = metrics(m, X, Y, P, d0=1.0, trace0=0.5)
    # P x = 0.2, 0.6, 0.9, 0.5 (the last one a tie -> wrong)
    ck(abs(r["accuracy"] - 2 / 3) < 1e-15, f"accuracy {r['accuracy']}")
    ck(r["accuracy_frustrated"] == 0.0, f"accuracy_frustrated (tie) {r['accuracy_frustrated']}")
    ck(abs(r["margin"] - ((0.8 - 0.2) + (0.4 - 0.6) + (0.9 - 0.1)) / 3) < 1e-14, f"margin {r['margin']}")
    ck(abs(r["within_class_spread"] - (0.04 + 0.36 + 0.01) / 3) < 1e-14, f"spread {r['within_class_spread']}")
    ck(abs(r["loss"] - (0.04 + 0.36 + 0.01 + 0.25 + 0.25) / 10) < 1e-14, f"loss {r['loss']}")
    ck(r["min_label_distance"] == 1.0 and r["label_effective_rank"] == 1.0, "label distances / rank")

    print(f"{ck.passed} passed, {ck.failed} failed")
    return ck.failed == 0


def jacobian(model, X, Y, P, h=1e-20):
    """Jacobian of the packed vector field by complex-step differentiation
    (exact to rounding: the field is a real polynomial)."""
    d = X.shape[1]
    z = model.pack(X, Y, P).astype(complex)
    n = z.size
    J = np.zeros((n, n))
    for k in range(n):
        zk = z.copy()
        zk[k] += 1j * h
        Xk, Yk, Pk = model.unpack(zk, d)
        J[:, k] = model.pack(*model.field(Xk, Yk, Pk)).imag / h
    return J


# ----------------------------------------------------------------------------
# script


def load_init(path):
    import h5py
    with h5py.File(path, "r") as f:
        t = np.asarray(f["t"])
        if t[0] != 0.0:
            raise ValueError(f"{path}: first recorded time is {t[0]}, not 0")
        X = np.asarray(f["samples"][0])
        Y = np.asarray(f["labels"][0])
        P = np.asarray(f["head"][0]) if "head" in f else np.eye(X.shape[1])
    return X, Y, P


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["selftest", "run"])
    ap.add_argument("--observations")
    ap.add_argument("--init")
    ap.add_argument("--model", default=None)
    ap.add_argument("--terms", default=None)
    ap.add_argument("--rates", default="degree", choices=["degree", "uniform"])
    ap.add_argument("--eta-x", type=float, default=1.0)
    ap.add_argument("--eta-y", type=float, default=1.0)
    ap.add_argument("--eta-head", type=float, default=1.0)
    ap.add_argument("--times", default="0,1,10")
    ap.add_argument("--integrator", default="rk4", choices=["rk4", "gd"])
    ap.add_argument("--dt", type=float, default=1e-3, help="RK4 step, or gd step")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    if args.command == "selftest":
        return 0 if selftest() else 1
    if not (args.observations and args.init):
        ap.error("run needs --observations and --init")
    A = read_observations(args.observations)
    spec = args.terms or args.model or "minimal"
    model = HeadModel(A, spec, args.rates, args.eta_x, args.eta_y, args.eta_head)
    X0, Y0, P0 = load_init(args.init)
    times = [float(v) for v in args.times.split(",")]
    if args.integrator == "rk4":
        Xs, Ys, Ps = model.rk4(X0, Y0, P0, times, args.dt)
    else:
        steps = [int(round(t / args.dt)) for t in times]
        g = model.gd(X0, Y0, P0, args.dt, steps)
        Xs, Ys, Ps = (np.array([g[s][k] for s in steps]) for k in range(3))
    rows, _ = trajectory_metrics(model, Xs, Ys, Ps)
    lines = ["t," + ",".join(METRIC_NAMES)]
    for t, r in zip(times, rows):
        lines.append(repr(t) + "," + ",".join("" if r[k] is None else repr(r[k]) for k in METRIC_NAMES))
    summary = {"final": rows[-1]}
    if model.head:
        summary["final_head"] = {
            "head_eigenvalues": [[float(v.real), float(v.imag)] for v in np.linalg.eigvals(Ps[-1])],
            "separation_head_gain": separation_gains(Ys[-1], Ps[-1]),
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
