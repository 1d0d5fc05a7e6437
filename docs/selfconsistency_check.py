#!/usr/bin/python3
"""Numerical verification of every formula in docs/selfconsistency.md.

Dense NumPy only: the vector fields, losses and Jacobians are those of the
independent reference tests/reference/head_ref.py (hand-written gradients,
checked there against finite differences); Jacobians are taken by
complex-step differentiation of the full particle vector field (samples,
labels and head: (N + K) d + d^2 variables), so they are exact to rounding.
Fixed points are either constructed from the closed forms of the document
or reached by integrating the particle dynamics (RK4).

Run:  /usr/bin/python3 docs/selfconsistency_check.py      (numpy only; a few seconds)
Prints PASS/FAIL per check; exits 1 if any check fails.
Section numbers (s1..s9) refer to docs/selfconsistency.md.
"""

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import head_ref as hr  # noqa: E402

RESULTS = []


def check(name, ok, detail=""):
    ok = bool(ok)
    RESULTS.append((name, ok))
    print(("PASS" if ok else "FAIL") + "  " + name + (f"   [{detail}]" if detail else ""))
    return ok


def note(text):
    print("NOTE  " + text)


# ----------------------------------------------------------------------------
# data and class-level matrices


def rows_to_A(rows, K=None):
    K = K or max(max(r) for r in rows) + 1
    A = np.zeros((len(rows), K))
    for i, r in enumerate(rows):
        for c in r:
            A[i, c] += 1
    return A


def pair_data(n, F):
    return rows_to_A([(0,)] * n + [(1,)] * n + [(0, 1)] * F)


def complete_data(K, n, m):
    rows = [(c,) for c in range(K) for _ in range(n)]
    rows += [(a, b) for a in range(K) for b in range(a + 1, K) for _ in range(m)]
    return rows_to_A(rows, K)


def ring_data(K, n, m):
    rows = [(c,) for c in range(K) for _ in range(n)]
    rows += [(c, (c + 1) % K) for c in range(K) for _ in range(m)]
    return rows_to_A(rows, K)


def class_walk(A):
    a, b = A.sum(1), A.sum(0)
    R = A / a[:, None]          # N x K: sample -> its labels
    Q = (A / b[None, :]).T      # K x N: class -> its samples
    return R, Q, Q @ R


def t_modes(A):
    """Eigenvalues mu (ascending) and B-orthonormal right eigenvectors V
    (columns) of T, from the symmetric S = B^{-1/2} A^T D_a^{-1} A B^{-1/2}."""
    a, b = A.sum(1), A.sum(0)
    S = (A / np.sqrt(b)[None, :]).T @ (A / a[:, None] / np.sqrt(b)[None, :])
    mu, U = np.linalg.eigh(0.5 * (S + S.T))
    return mu, U / np.sqrt(b)[:, None]


def class_laplacian(A):
    """L_c = B - A^T D_a^{-1} A = B (I - T): weights W_cc' = sum_i A_ic A_ic' / a_i."""
    a, b = A.sum(1), A.sum(0)
    return np.diag(b) - A.T @ (A / a[:, None])


def ybar_of(A, Y):
    return (A @ Y) / A.sum(1)[:, None]


def xbar_of(A, X):
    return (A.T @ X) / A.sum(0)[:, None]


def residual(model, X, Y, P):
    return max(float(np.abs(v).max()) for v in model.field(X, Y, P))


def fixed_point(A, E, amps, p, Pcomp=None, centre=None):
    """Assemble a siam-sg fixed point from the modes of T (s3, s5): labels
    Y = sum_k amps_k v_k e_k^T, head P = sum_k p_k e_k e_k^+ on the used
    directions and Pcomp on a complement; samples x_i = P^{-1} ybar_i.
    E: d x K (columns e_k for the modes of t_modes, ascending mu)."""
    mu, V = t_modes(A)
    d, K = E.shape
    Y = (V * amps[None, :]) @ E.T          # K x d
    # P: prescribed on the columns of E (and of an orthonormal complement)
    comp = np.linalg.svd(E, full_matrices=True)[0][:, K:] if d > K else np.zeros((d, 0))
    Bas = np.hstack([E, comp])
    img = np.hstack([E * p[None, :], comp @ (Pcomp if Pcomp is not None else np.eye(d - K))])
    P = img @ np.linalg.inv(Bas)
    X = np.linalg.solve(P, ybar_of(A, Y).T).T
    return X, Y, P, mu, V


def jac_spectrum(model, X, Y, P, rel=1e-9):
    J = hr.jacobian(model, X, Y, P)
    ev = np.linalg.eigvals(J)
    scale = np.abs(ev).max()
    zero = np.abs(ev) <= rel * scale
    mx = float(ev[~zero].real.max()) if (~zero).any() else 0.0
    return int(zero.sum()), mx, ev


def rk4(model, X, Y, P, T, h):
    Xs, Ys, Ps = model.rk4(X, Y, P, [0.0, T], h)
    return Xs[-1], Ys[-1], Ps[-1]


# ----------------------------------------------------------------------------


def s1_class_walk():
    print("-- s1 class walk T = Q R")
    rng = np.random.default_rng(1)
    rows = [(c,) * int(rng.integers(1, 3)) for c in [0, 0, 1, 1, 1, 2, 2, 3]]
    rows += [(0, 1), (1, 2, 2), (2, 3), (0, 0, 3)]
    A = rows_to_A(rows)
    R, Q, T = class_walk(A)
    b = A.sum(0)
    check("s1 T row-stochastic, B T symmetric (reversible)", np.allclose(T.sum(1), 1) and
          np.allclose(b[:, None] * T, (b[:, None] * T).T))
    mu, V = t_modes(A)
    check("s1 eigenvalues of T real in [0,1], B-orthonormal eigenvectors",
          np.allclose(np.sort(np.linalg.eigvals(T).real), mu) and mu.min() > -1e-12 and abs(mu.max() - 1) < 1e-12
          and np.allclose(V.T @ (b[:, None] * V), np.eye(4)) and np.allclose(T @ V, V * mu))
    check("s1 B (I - T) = class Laplacian, W_cc' = sum_i A_ic A_ic'/a_i",
          np.allclose(class_laplacian(A), np.diag(b) @ (np.eye(4) - T)))
    for n, F in [(10, 1), (10, 2), (20, 5), (7, 30)]:
        A = pair_data(n, F)
        f = F / (2 * n + F)
        mu, _ = t_modes(A)
        check(f"s1 pair n={n} F={F}: mu = {{1, n/(n+F) = (1-f)/(1+f)}}",
              np.allclose(mu, [n / (n + F), 1]) and abs(n / (n + F) - (1 - f) / (1 + f)) < 1e-15)
    for K, n, m in [(3, 6, 2), (4, 5, 1), (5, 3, 2)]:
        mu, _ = t_modes(complete_data(K, n, m))
        want = (n + (K - 2) * m / 2) / (n + (K - 1) * m)
        check(f"s1 complete K={K} n={n} m={m}: mu_sep = (n+(K-2)m/2)/(n+(K-1)m), multiplicity K-1",
              np.allclose(mu, sorted([want] * (K - 1) + [1.0])))
    for K, n, m in [(4, 6, 1), (5, 4, 2), (6, 3, 3)]:
        mu, _ = t_modes(ring_data(K, n, m))
        want = sorted((n + m + m * math.cos(2 * math.pi * k / K)) / (n + 2 * m) for k in range(K))
        check(f"s1 ring K={K} n={n} m={m}: mu_k = (n+m+m cos(2 pi k/K))/(n+2m)", np.allclose(mu, want))


def s2_fixed_point_equations():
    print("-- s2/s3 siam-sg fixed-point equations and P^2 Y = Y T^T")
    rng = np.random.default_rng(2)
    # random data: repeated observations, a 3-label sample, K = 4, d = 6
    rows = [(0,), (0, 0), (1,), (1,), (2,), (2, 2), (3,), (3,), (0, 1), (1, 2), (2, 3, 3), (0, 1, 3)]
    A = rows_to_A(rows)
    K, d = 4, 6
    E = rng.standard_normal((d, K))      # generic (not orthogonal) mode directions
    amps = rng.uniform(0.5, 1.5, K)
    mu, V = t_modes(A)
    signs = np.array([1, -1, 1, 1])
    X, Y, P, mu, V = fixed_point(A, E, amps, signs * np.sqrt(mu), Pcomp=np.array([[0.9, 0.3], [-0.2, 1.4]]))
    for rates, ex, ey, eh in [("degree", 1, 1, 1), ("degree", 0.5, 2.0, 3.0), ("uniform", 1, 1, 1), ("uniform", 2, 0.3, 0.1)]:
        m = hr.HeadModel(A, "siam-sg", rates, ex, ey, eh)
        r = residual(m, X, Y, P)
        check(f"s3 assembled fixed point is stationary ({rates}, eta {ex},{ey},{eh})", r < 1e-13, f"residual {r:.2e}")
    check("s2 P x_i = ybar_i and P y_c = xbar_c", np.allclose(X @ P.T, ybar_of(A, Y), atol=1e-13)
          and np.allclose(Y @ P.T, xbar_of(A, X), atol=1e-13))
    gX, gY, gP = hr.terms_gradients(A, hr.parse_terms("siam-sg"), X, Y, P)
    check("s2 the P-equation holds automatically (dL/dP of the sg terms = 0)", np.abs(gP).max() < 1e-13)
    _, _, T = class_walk(A)
    check("s3 P^2 Y = Y T^T (columns: P^2 y_c = sum_c' T_cc' y_c')", np.allclose(Y @ P.T @ P.T, T @ Y, atol=1e-13))
    # converse: any (Y, P) with P^2 Y = Y T^T and x = P^-1 ybar is a fixed point;
    # and a perturbed P (breaking P^2 e = mu e) is not
    P2 = P + 1e-3 * rng.standard_normal((d, d))
    X2 = np.linalg.solve(P2, ybar_of(A, Y).T).T
    m = hr.HeadModel(A, "siam-sg")
    check("s3 breaking P^2 Y = Y T^T breaks the fixed point", residual(m, X2, Y, P2) > 1e-6)


def s4_simulation_pair():
    print("-- s4 pair: closed forms against a converged particle run (siam-sg, degree, P(0) = I)")
    n, F, d = 6, 2, 3
    A = pair_data(n, F)
    f = F / (2 * n + F)
    mu = (1 - f) / (1 + f)
    m = hr.HeadModel(A, "siam-sg")
    rng = np.random.default_rng(5)
    X0 = rng.standard_normal((A.shape[0], d)) / math.sqrt(d)
    Y0 = rng.standard_normal((2, d)) / math.sqrt(d)
    X, Y, P = rk4(m, X0, Y0, np.eye(d), 300.0, 0.2)
    r = residual(m, X, Y, P)
    D = float(np.linalg.norm(Y[0] - Y[1]))
    check("s4 run reached a separated fixed point", r < 1e-9 and D > 1e-2 * np.linalg.norm(Y0[0] - Y0[1]),
          f"residual {r:.1e}, D {D:.4f}")
    e = Y[0] - Y[1]
    ybar = Y.mean(0)
    check("s4 P e = +sqrt(mu) e (gain sqrt((1-f)/(1+f)))", np.allclose(P @ e, math.sqrt(mu) * e, atol=1e-8),
          f"|Pe|/|e| = {np.linalg.norm(P @ e) / np.linalg.norm(e):.10f}, sqrt(mu) = {math.sqrt(mu):.10f}")
    check("s4 P ybar = ybar (centre gain +1)", np.allclose(P @ ybar, ybar, atol=1e-8))
    check("s4 loss = D^2 f / (2 (1 + f))", abs(m.loss(X, Y, P) - D * D * f / (2 * (1 + f))) < 1e-9,
          f"{m.loss(X, Y, P):.12f} vs {D * D * f / (2 * (1 + f)):.12f}")
    check("s4 x_i = P^-1 ybar_i", np.allclose(X @ P.T, ybar_of(A, Y), atol=1e-8))


def s5_loss_formula():
    print("-- s5 loss at the fixed point: L = tr(Y^T L_c Y)/M on eigen-members; pair, complete, ring")
    rng = np.random.default_rng(3)
    rows = [(0,), (0, 0), (1,), (1,), (2,), (2, 2), (3,), (0, 1), (1, 2), (2, 3, 3), (0, 1, 3)]
    A = rows_to_A(rows)
    K, d = 4, 5
    mu, _ = t_modes(A)
    for signs in [[1, 1, 1, 1], [1, -1, 1, -1]]:
        X, Y, P, mu, V = fixed_point(A, rng.standard_normal((d, K)), rng.uniform(0.5, 1.5, K),
                                     np.array(signs) * np.sqrt(mu))
        m = hr.HeadModel(A, "siam-sg")
        L = m.loss(X, Y, P)
        want = float(np.trace(Y.T @ class_laplacian(A) @ Y)) / A.sum()
        check(f"s5 L = tr(Y^T L_c Y)/M, gains signs {signs}", abs(L - want) < 1e-13, f"{L:.12f} vs {want:.12f}")
        # per mode: (1/M) sum_k (1 - mu_k) |amp_k e_k|^2
        amps = V.T @ (A.sum(0)[:, None] * Y)   # K x d: amp_k e_k (B-orthonormal v_k)
        check(f"s5 L = (1/M) sum_k (1-mu_k) |amp_k e_k|^2, signs {signs}",
              abs(L - float(((1 - mu) * (amps ** 2).sum(1)).sum()) / A.sum()) < 1e-13)
    # pair: L = D^2 f / (2 (1+f)) = D^2 F / (4 (n + F))
    for n, F in [(10, 1), (6, 4)]:
        A = pair_data(n, F)
        f = F / (2 * n + F)
        mu, _ = t_modes(A)
        X, Y, P, _, _ = fixed_point(A, np.eye(3)[:, :2], np.array([0.8, 1.7]), np.sqrt(mu))
        D = np.linalg.norm(Y[0] - Y[1])
        L = hr.HeadModel(A, "siam-sg").loss(X, Y, P)
        check(f"s5 pair n={n} F={F}: L = D^2 f/(2(1+f)) = D^2 F/(4(n+F))",
              abs(L - D * D * f / (2 * (1 + f))) < 1e-14 and abs(f / (2 * (1 + f)) - F / (4 * (n + F))) < 1e-15)
    # complete: L / MSD = m (K-1) / (4 (n + (K-1) m)) for any shape; L / D_min^2 is not fixed
    K, n, mm, d = 3, 6, 2, 4
    A = complete_data(K, n, mm)
    mu, _ = t_modes(A)
    ratio = mm * (K - 1) / (4 * (n + (K - 1) * mm))
    out = []
    for amps in [np.array([1.0, 1.0, 0.5]), np.array([0.3, 1.0, 0.5])]:  # mu ascending: two sep modes, then centre
        X, Y, P, _, _ = fixed_point(A, np.eye(d)[:, :3], amps, np.sqrt(mu))
        L = hr.HeadModel(A, "siam-sg").loss(X, Y, P)
        dist = hr.pair_distances(Y)
        out.append((L / np.mean(dist ** 2), L / dist.min() ** 2))
    check("s5 complete: L / mean_{a<b}|y_a - y_b|^2 = m(K-1)/(4(n+(K-1)m)) for two shapes",
          all(abs(o[0] - ratio) < 1e-13 for o in out), f"{[round(o[0], 12) for o in out]} vs {ratio}")
    check("s5 complete: L / D_min^2 differs between the shapes (not an order parameter)",
          abs(out[0][1] - out[1][1]) > 1e-3, f"{out[0][1]:.5f} vs {out[1][1]:.5f}")
    # ring: L / MSD depends on the mix of modes
    K, n, mm, d = 4, 6, 1, 5
    A = ring_data(K, n, mm)
    mu, V = t_modes(A)
    vals = []
    for amps in [np.array([1.0, 0.2, 0.2, 0.5]), np.array([0.2, 1.0, 1.0, 0.5])]:
        X, Y, P, _, _ = fixed_point(A, np.eye(d)[:, :4], amps, np.sqrt(mu))
        m = hr.HeadModel(A, "siam-sg")
        check("s5 ring fixed point (several mu) is stationary", residual(m, X, Y, P) < 1e-13)
        dist = hr.pair_distances(Y)
        vals.append(m.loss(X, Y, P) / np.mean(dist ** 2))
    check("s5 ring: L / MSD depends on the free mix of modes", abs(vals[0] - vals[1]) > 1e-3,
          f"{vals[0]:.5f} vs {vals[1]:.5f}")


def s5b_non_eigen_members():
    print("-- s5 members where the separation is not an eigenvector of P")
    n, F, d = 5, 2, 4
    A = pair_data(n, F)
    s = math.sqrt(n / (n + F))
    u1 = np.array([0, 1.0, 0, 0])
    u2 = np.array([0, math.cos(1.0), math.sin(1.0), 0])
    Vb = np.column_stack([[1.0, 0, 0, 0], u1, u2, [0, 0, 0, 1.0]])
    P = Vb @ np.diag([1, s, -s, 1.0]) @ np.linalg.inv(Vb)
    m = hr.HeadModel(A, "siam-sg")
    gains, losses = [], []
    for th in [0.3, 0.8]:
        e = u1 + th * u2
        Y = np.array([0.4 * Vb[:, 0] + 0.8 * e, 0.4 * Vb[:, 0] - 0.8 * e])
        X = np.linalg.solve(P, ybar_of(A, Y).T).T
        r = residual(m, X, Y, P)
        gains.append(np.linalg.norm(P @ e) / np.linalg.norm(e))
        D = np.linalg.norm(Y[0] - Y[1])
        f = F / (2 * n + F)
        losses.append((m.loss(X, Y, P), D * D * f / (2 * (1 + f))))
        check(f"s5 mixed member th={th}: stationary, P^2 e = mu e, but |Pe|/|e| = {gains[-1]:.4f} != sqrt(mu) = {s:.4f}",
              r < 1e-13 and np.allclose(P @ P @ e, s * s * e) and abs(gains[-1] - s) > 1e-2)
        check(f"s5 mixed member th={th}: loss {losses[-1][0]:.5f} != D^2 f/(2(1+f)) = {losses[-1][1]:.5f}",
              abs(losses[-1][0] - losses[-1][1]) > 1e-3)
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        check(f"s5 mixed member th={th}: unstable (max Re {mx:.3f})", mx > 1e-6)


def s6_no_fixed_point_without_sg():
    print("-- s6 siam, head, minimal: no separated fixed point for mu < 1")
    rng = np.random.default_rng(6)
    worst = 0.0
    for _ in range(1000):
        d = int(rng.integers(1, 6))
        P = rng.standard_normal((d, d)) * rng.uniform(0.1, 3)
        G = np.linalg.solve(np.eye(d) + P.T @ P, P + P.T)
        worst = max(worst, float(np.abs(np.linalg.eigvals(G)).max()))
    check("s6 siam: spectral radius of G = (I+P^T P)^-1 (P+P^T) <= 1 (1000 random P)", worst <= 1 + 1e-12,
          f"max {worst:.6f}")
    p = np.linspace(-20, 20, 400001)
    check("s6 siam scalar: (2p/(1+p^2))^2 <= 1 with equality only at p = +-1",
          (2 * p / (1 + p * p)).__pow__(2).max() <= 1 + 1e-15)
    # siam fixed-point condition on labels: Y = G^2 T Y (columns: y = G^2 sum T y)
    A = pair_data(5, 3)
    _, _, T = class_walk(A)
    P = np.diag([1.0, 0.7, 1.8])
    G = np.linalg.solve(np.eye(3) + P.T @ P, P + P.T)
    Lmap = np.kron(T, G @ G)   # vec(Y) (row-major K x d) -> vec(T Y G^2T)
    ev = np.linalg.eigvals(Lmap)
    check("s6 siam: the label map Y -> T Y (G^2)^T has eigenvalue 1 only on the centre (mu = 1) x (G = +-1)",
          int(np.sum(np.abs(ev - 1) < 1e-10)) == 1)
    # head: Y = Pi T Y (Pi = projector on range P), singular and invertible P
    for P in [np.diag([1.0, 0.5, 0.0]), np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0], [0, 0.4, 1.1]])]:
        U, sv, _ = np.linalg.svd(P)
        r = int((sv > 1e-12).sum())
        Pi = U[:, :r] @ U[:, :r].T
        ev = np.linalg.eigvals(np.kron(T, Pi))
        check(f"s6 head: fixed labels Y = T Y Pi have dimension rank(P) x #(mu=1) = {r}",
              int(np.sum(np.abs(ev - 1) < 1e-10)) == r)
    # and the dynamics collapses (siam, head, minimal), pair n = 4, F = 4
    A = pair_data(4, 4)
    rng = np.random.default_rng(7)
    X0 = rng.standard_normal((A.shape[0], 3)) / math.sqrt(3)
    Y0 = rng.standard_normal((2, 3)) / math.sqrt(3)
    for spec in ["siam", "head", "minimal"]:
        m = hr.HeadModel(A, spec)
        X, Y, P = rk4(m, X0, Y0, np.eye(3), 150.0, 0.2)
        D = np.linalg.norm(Y[0] - Y[1]) / np.linalg.norm(Y0[0] - Y0[1])
        check(f"s6 {spec} collapses (pair, f = 1/3): D(150)/D(0) = {D:.1e}", D < 1e-6)


def s7_per_mode():
    print("-- s7 the per-mode (d = 1) reduced equations")
    for A, name in [(pair_data(6, 2), "pair"), (ring_data(5, 4, 2), "ring")]:
        mu, V = t_modes(A)
        R, Q, T = class_walk(A)
        for k in range(len(mu)):
            v = V[:, k:k + 1]
            for p in [math.sqrt(mu[k]), -math.sqrt(mu[k])]:
                m = hr.HeadModel(A, "siam-sg")
                x = (R @ v) / p
                r = residual(m, x, v, np.array([[p]]))
                if not r < 1e-13:
                    check(f"s7 {name} mode mu={mu[k]:.4f}: p = {p:+.4f} solves the d=1 equations", False, f"{r:.1e}")
                    break
        check(f"s7 {name}: every mode, p = +-sqrt(mu), x = R v / p is a d = 1 fixed point with labels y = v", True)
    # p = 0 root: fixed point iff sum_ic A_ic x_i v_c = 0, and it is unstable
    A = pair_data(6, 2)
    mu, V = t_modes(A)
    v = V[:, :1]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((A.shape[0], 1))
    w = A @ v
    x -= w * float((w.T @ x) / (w.T @ w))       # sum A x v = 0
    m = hr.HeadModel(A, "siam-sg")
    r = residual(m, x, v, np.zeros((1, 1)))
    nz, mx, _ = jac_spectrum(m, x, v, np.zeros((1, 1)))
    check("s7 p = 0 root: a d = 1 fixed point when sum A x v = 0, and unstable", r < 1e-14 and mx > 1e-6,
          f"residual {r:.1e}, max Re {mx:.3f}")
    # the d-dimensional assembly = per-mode solutions in independent directions (s3 did it generally)
    X, Y, P, mu, V = fixed_point(A, np.eye(3)[:, :2], np.array([1.3, 0.7]), np.sqrt(mu))
    per_mode = [np.linalg.norm(P @ (Y.T @ (A.sum(0) * V[:, k]))) / np.linalg.norm(Y.T @ (A.sum(0) * V[:, k]))
                for k in range(2)]
    check("s7 assembled head acts on mode k's direction with gain sqrt(mu_k)",
          np.allclose(per_mode, np.sqrt(mu)), f"{per_mode}")


def s8_stability():
    print("-- s8 stability (full particle Jacobian) and zero modes")
    n, F, d = 5, 2, 3
    A = pair_data(n, F)
    mu_s = n / (n + F)
    s = math.sqrt(mu_s)
    E = np.column_stack([np.eye(d)[:, 1], np.eye(d)[:, 0]])   # sep along e1, centre along e0

    def member(p_sep=s, p_c=1.0, q=1.0, amp_c=2.0, amp_s=3.0, rates="degree", eta_head=1.0):
        X, Y, P, _, _ = fixed_point(A, E, np.array([amp_s, amp_c]), np.array([p_sep, p_c]), Pcomp=np.array([[q]]))
        return hr.HeadModel(A, "siam-sg", rates, 1.0, 1.0, eta_head), X, Y, P

    for rates in ["degree", "uniform"]:
        m, X, Y, P = member(rates=rates)
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        check(f"s8 separated, P = 1 on the unused direction ({rates}): stable, d^2 = {d * d} zero modes",
              nz == d * d and mx < -1e-6, f"zero {nz}, max Re {mx:.4f}")
    mu, V = t_modes(A)
    vc = abs(V[0, 1])                 # centre mode v = 1/sqrt(M): |ybar| = amp_c vc
    vs = abs(V[0, 0])                 # separation mode: D = 2 amp_s vs
    # channel 1, centre: shift of everything along w (P w = q w) + P[w, centre]:
    # eigenvalues 0 and q (1 - q) - 2 eta_P |ybar|^2
    for q, yc, eh, D in [(0.5, 0.3, 1.0, 1.6), (0.7, 0.3, 1.0, 1.6), (0.5, 0.2, 0.5, 1.6), (0.5, 0.6, 1.0, 1.6)]:
        m, X, Y, P = member(q=q, amp_c=yc / vc, amp_s=D / (2 * vs), eta_head=eh)
        nz, mx, ev = jac_spectrum(m, X, Y, P)
        rate = q * (1 - q) - 2 * eh * yc ** 2
        if rate > 0:
            check(f"s8 centre channel q={q}, |ybar|={yc}, eta_P={eh}: unstable at rate q(1-q) - 2 eta_P |ybar|^2 = {rate:.4f}",
                  abs(mx - rate) < 1e-9, f"max Re {mx:.6f}")
        else:
            check(f"s8 centre channel q={q}, |ybar|={yc}: q(1-q) < 2 eta_P |ybar|^2 -> stable",
                  mx < 1e-9, f"max Re {mx:.2e}")
    # the same channel along the separation direction itself (q = sqrt(mu)), |ybar| small
    m, X, Y, P = member(amp_c=0.16 / vc)
    nz, mx, _ = jac_spectrum(m, X, Y, P)
    rate = s * (1 - s) - 2 * 0.16 ** 2
    check(f"s8 centre channel along the separation (q = sqrt(mu)), |ybar| = 0.16: unstable, rate ~ {rate:.4f}",
          abs(mx - rate) < 2e-3, f"max Re {mx:.5f}")
    # channel 2, separation: tilt of the separation into w + P[w, e_sep]:
    # eigenvalues 0 and the roots of l^2 + (2 q^2 + eta_P D^2/2) l + q (q+p) (q (q-p) + eta_P D^2/2)
    # -> unstable iff q (p - q) > eta_P D^2 / 2
    for q, D, eh in [(0.5, 0.5345, 1.0), (0.5, 1.0, 1.0), (0.3, 0.8, 0.5), (0.6, 0.5, 2.0), (0.7, 0.3, 1.0)]:
        m, X, Y, P = member(q=q, amp_s=D / (2 * vs), amp_c=0.8 / vc, eta_head=eh)
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        tr = -(2 * q * q + eh * D * D / 2)
        det = q * (q + s) * (q * (q - s) + eh * D * D / 2)
        root = (tr + math.sqrt(tr * tr - 4 * det)) / 2
        if q * (s - q) > eh * D * D / 2:
            check(f"s8 separation channel q={q}, D={D}, eta_P={eh}: q(p-q) > eta_P D^2/2, unstable at {root:.5f}",
                  abs(mx - root) < 1e-9, f"max Re {mx:.6f}")
        else:
            check(f"s8 separation channel q={q}, D={D}, eta_P={eh}: q(p-q) <= eta_P D^2/2 -> stable",
                  mx < 1e-9, f"max Re {mx:.2e}")
    for p_sep, p_c, what in [(-s, 1.0, "p_sep = -sqrt(mu)"), (s, -1.0, "p_centre = -1")]:
        m, X, Y, P = member(p_sep=p_sep, p_c=p_c)
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        check(f"s8 separated member with {what}: stationary but unstable", residual(m, X, Y, P) < 1e-13 and mx > 1e-3,
              f"max Re {mx:.4f}")
    # collapsed fixed points x_i = y_c = z, P z = z, P = diag(1, q, q): separation along
    # a q-direction grows at rate q (sqrt(mu) - q) when 0 < q < sqrt(mu)
    z = np.array([1.0, 0, 0])
    for q in [0.5, 0.8, 0.9, 1.0, 1.5]:
        X = np.tile(z, (A.shape[0], 1))
        Y = np.tile(z, (2, 1))
        P = np.diag([1.0, q, q])
        m = hr.HeadModel(A, "siam-sg")
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        want = q * (s - q)
        if want > 0:
            check(f"s8 collapsed, q={q} < sqrt(mu)={s:.3f}: unstable at rate q(sqrt(mu)-q) = {want:.4f}",
                  abs(mx - want) < 1e-9, f"max Re {mx:.6f}")
        else:
            check(f"s8 collapsed, q={q} >= sqrt(mu): stable with d^2 zero modes", mx < 0 and nz == d * d,
                  f"zero {nz}, max Re {mx:.4f}")
    # siam (gradient flow): collapsed state with P = I stable, real spectrum
    m = hr.HeadModel(A, "siam")
    X = np.tile(z, (A.shape[0], 1))
    Y = np.tile(z, (2, 1))
    nz, mx, ev = jac_spectrum(m, X, Y, np.eye(3))
    check("s8 siam collapsed (P = I): stable, real spectrum (gradient flow)", mx < 0 and np.abs(ev.imag).max() < 1e-9,
          f"zero {nz}, max Re {mx:.4f}")
    # complete K = 3: two separation modes of one mu. Non-collinear labels: d^2
    # zero modes; collinear labels (one amplitude zero): a branch point, d^2 + 1
    K, n, mm, d = 3, 6, 2, 4
    A = complete_data(K, n, mm)
    mu, V = t_modes(A)
    # (the collinear member's empty mode direction gets head gain 1, as in runs)
    for amps, p, want, what in [(np.array([0.9, 1.1, 2.0]), np.sqrt(mu), d * d, "non-collinear"),
                                (np.array([0.0, 1.1, 2.0]), np.sqrt(mu) * [1 / np.sqrt(mu[0]), 1, 1], d * d + 1,
                                 "collinear")]:
        X, Y, P, _, _ = fixed_point(A, np.eye(d)[:, :3], amps, p)
        m = hr.HeadModel(A, "siam-sg")
        nz, mx, _ = jac_spectrum(m, X, Y, P)
        check(f"s8 complete K=3 {what}: stable with {want} zero modes", nz == want and mx < 0,
              f"zero {nz}, max Re {mx:.4f}")


def s9_families():
    print("-- s9 free order parameters: continuous families of fixed points")
    n, F, d = 5, 2, 4
    A = pair_data(n, F)
    mu, V = t_modes(A)
    E = np.column_stack([np.eye(d)[:, 1], np.eye(d)[:, 0]])
    X, Y, P, _, _ = fixed_point(A, E, np.array([1.0, 0.7]), np.sqrt(mu), Pcomp=np.array([[1.1, 0.2], [0.0, 0.9]]))
    m = hr.HeadModel(A, "siam-sg")
    rng = np.random.default_rng(9)
    Qr, _ = np.linalg.qr(rng.standard_normal((d, d)))
    ok = residual(m, 2.5 * X, 2.5 * Y, P) < 1e-13                      # size of the configuration
    ok &= residual(m, X @ Qr.T, Y @ Qr.T, Qr @ P @ Qr.T) < 1e-13       # rotations
    P2 = P.copy()
    P2[:, 2:] = rng.standard_normal((d, 2))                           # P on the unused directions
    ok &= residual(m, X, Y, P2) < 1e-13
    X3, Y3, P3, _, _ = fixed_point(A, E, np.array([0.3, 1.9]), np.sqrt(mu))   # separation and centre independently
    ok &= residual(m, X3, Y3, P3) < 1e-13
    check("s9 scaling, rotations, P on unused directions, separation and centre: all stay fixed points", ok)
    nz, _, _ = jac_spectrum(m, X, Y, P)
    check(f"s9 family dimension d^2 = {d * d} = zero modes (d centre + d separation + d(d-2) head)", nz == d * d,
          f"{nz}")


def s10_basins():
    print("-- s10 basins: fraction of initial conditions that stay apart (siam-sg, pair, d = 4, P(0) = I)")
    t0 = time.time()
    n, d, S, T, h = 10, 4, 40, 300.0, 0.2

    def field(Aa, Ab, a, b, M, X, Y, P):
        PT = P.transpose(0, 2, 1)
        RX = X @ PT - Aa @ Y
        RY = Y @ PT - Ab @ X
        gP = ((RX * a[:, None]).transpose(0, 2, 1) @ X + (RY * b[:, None]).transpose(0, 2, 1) @ Y) / M
        return -RX @ P, -RY @ P, -gP

    # the batched field is the reference's field (degree, siam-sg)
    A = pair_data(n, 3)
    a, b, M = A.sum(1), A.sum(0), A.sum()
    rng = np.random.default_rng(10)
    Xt, Yt = rng.standard_normal((1, A.shape[0], d)), rng.standard_normal((1, 2, d))
    Pt = np.eye(d)[None] + 0.3 * rng.standard_normal((1, d, d))
    got = field(A / a[:, None], (A / b[None, :]).T, a, b, M, Xt, Yt, Pt)
    want = hr.HeadModel(A, "siam-sg").field(Xt[0], Yt[0], Pt[0])
    check("s10 batched siam-sg field = reference field", all(np.allclose(g[0], w, atol=1e-13) for g, w in zip(got, want)))
    fracs = []
    for F in [1, 13, 30]:
        A = pair_data(n, F)
        a, b, M = A.sum(1), A.sum(0), A.sum()
        Aa, Ab = A / a[:, None], (A / b[None, :]).T
        rng = np.random.default_rng(100 + F)
        X = rng.standard_normal((S, A.shape[0], d)) / math.sqrt(d)
        Y = rng.standard_normal((S, 2, d)) / math.sqrt(d)
        P = np.tile(np.eye(d), (S, 1, 1))
        D0 = np.linalg.norm(Y[:, 0] - Y[:, 1], axis=1)
        fn = lambda X, Y, P: field(Aa, Ab, a, b, M, X, Y, P)  # noqa: E731
        for _ in range(int(round(T / h))):
            k1 = fn(X, Y, P)
            k2 = fn(X + h / 2 * k1[0], Y + h / 2 * k1[1], P + h / 2 * k1[2])
            k3 = fn(X + h / 2 * k2[0], Y + h / 2 * k2[1], P + h / 2 * k2[2])
            k4 = fn(X + h * k3[0], Y + h * k3[1], P + h * k3[2])
            X = X + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            Y = Y + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
            P = P + h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        ratio = np.linalg.norm(Y[:, 0] - Y[:, 1], axis=1) / D0
        apart = ratio > 1e-3
        f = F / (2 * n + F)
        mu = n / (n + F)
        fracs.append(apart.mean())
        e = Y[:, 0] - Y[:, 1]
        Pe = np.einsum("sab,sb->sa", P, e)
        gains = np.linalg.norm(Pe, axis=1) / np.linalg.norm(e, axis=1)
        undecided = int(np.sum((ratio > 1e-6) & (ratio < 1e-2)))
        k = fn(X, Y, P)
        res = np.maximum(np.abs(k[0]).max(axis=(1, 2)), np.maximum(np.abs(k[1]).max(axis=(1, 2)), np.abs(k[2]).max(axis=(1, 2))))
        conv = apart & (res < 1e-8)
        note(f"f = {f:.3f}: {apart.sum()}/{S} apart ({conv.sum()} converged, residual < 1e-8); "
             f"1e-6 < D/D0 < 1e-2 (slow) {undecided}")
        if conv.any():
            err = float(np.abs(gains[conv] - math.sqrt(mu)).max())
            check(f"s10 f={f:.3f}: every converged run that stays apart has gain sqrt(mu) = {math.sqrt(mu):.5f}",
                  err < 1e-6, f"max |gain - sqrt(mu)| {err:.1e}")
    check("s10 fraction apart decreases with f (1 at small f, below 1/2 at f = 0.6)",
          fracs[0] == 1.0 and fracs[0] > fracs[1] > fracs[2] and fracs[2] < 0.5, f"{fracs}")
    note(f"s10 took {time.time() - t0:.1f} s")


def main():
    t0 = time.time()
    s1_class_walk()
    s2_fixed_point_equations()
    s4_simulation_pair()
    s5_loss_formula()
    s5b_non_eigen_members()
    s6_no_fixed_point_without_sg()
    s7_per_mode()
    s8_stability()
    s9_families()
    s10_basins()
    nf = sum(1 for _, ok in RESULTS if not ok)
    print(f"{len(RESULTS) - nf} passed, {nf} failed ({time.time() - t0:.1f} s)")
    return 1 if nf else 0


if __name__ == "__main__":
    sys.exit(main())
