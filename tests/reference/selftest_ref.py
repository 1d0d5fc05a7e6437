#!/usr/bin/python3
"""Self-tests of the dense reference minimal_ref.py against closed forms and
against itself by other routes (no CLI needed). Exit status non-zero on failure."""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minimal_ref as mr  # noqa: E402

failures = []
passes = 0


def check(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def two_class(n, F):
    pairs = [(i, c) for c in range(2) for i in range(c * n, (c + 1) * n)]
    for j in range(F):
        pairs += [(2 * n + j, 0), (2 * n + j, 1)]
    return mr.observations_to_matrix(pairs)


def random_data(rng, K, sizes, n_fr, max_rep=3):
    pairs = []
    i = 0
    for c in range(K):
        for _ in range(sizes[c]):
            for _ in range(rng.integers(1, max_rep + 1)):
                pairs.append((i, c))
            i += 1
    for _ in range(n_fr):
        a, b = rng.choice(K, 2, replace=False)
        pairs += [(i, int(a))] * int(rng.integers(1, max_rep + 1)) + [(i, int(b))] * int(rng.integers(1, max_rep + 1))
        i += 1
    return mr.observations_to_matrix(pairs)


# 1. closed-form two-class slow rate (degree, eta = 1): 1 - sqrt(n / (n + F))
for n, F in [(20, 1), (20, 4), (50, 10), (10, 30)]:
    m = mr.Model(two_class(n, F))
    mu = n / (n + F)
    check(abs(m.slow_rate - (1 - math.sqrt(mu))) < 1e-12, f"two-class slow rate n={n} F={F}: {m.slow_rate}")
    check(m.zero_modes == 1, f"two-class zero modes n={n} F={F}: {m.zero_modes}")
    check(abs(m.fast_rate - 2.0) < 1e-12, f"two-class fast rate n={n} F={F}: {m.fast_rate}")
    expect = {round(1 - math.sqrt(mu), 12): 1, 1.0: 2 * n + F - 2, round(1 + math.sqrt(mu), 12): 1, 2.0: 1}
    got = {round(r, 12): k for r, k in m.distinct}
    check(got == expect, f"two-class distinct rates n={n} F={F}: {got} vs {expect}")

# 2. without frustration: zero_modes = K, degree rates are 1 (mult N-K) and 2 (mult K)
A = mr.observations_to_matrix([(i, i % 3) for i in range(30)])
m = mr.Model(A)
check(m.zero_modes == 3, f"clean K=3 zero modes {m.zero_modes}")
check([(round(r, 12), k) for r, k in m.distinct] == [(1.0, 27), (2.0, 3)], f"clean K=3 rates {m.distinct}")

# 3. spectrum by the non-symmetric route, both schemes, unequal etas
rng = np.random.default_rng(1)
A = random_data(rng, 4, [7, 3, 9, 5], 6)
for rates, ex, ey in [("degree", 1.0, 1.0), ("degree", 0.7, 1.9), ("uniform", 1.0, 1.0), ("uniform", 2.0, 0.5)]:
    m = mr.Model(A, rates, ex, ey)
    ev = np.sort(np.linalg.eigvals(m.J).real)
    check(np.allclose(ev, np.sort(m.lam), rtol=0, atol=1e-11 * m.fast_rate), f"eigvals {rates} {ex} {ey}")
    # J z equals -F(z) written from the equations of motion
    z = rng.standard_normal((A.shape[0] + A.shape[1], 3))
    check(np.allclose(-m.J @ z, mr.vector_field(A, z, rates, ex, ey), atol=1e-13), f"J vs vector field {rates}")
    # components: zero modes = number of class-graph components
    check(m.zero_modes == len(mr.class_graph_components(A)), f"zero modes vs components {rates}")

# 4. uniform scheme is plain gradient flow of L: F = -eta dL/dz (finite differences)
N, K = A.shape
M = A.sum()
z = rng.standard_normal((N + K, 2))


def loss(zz):
    x, y = zz[:N], zz[N:]
    return (A * ((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)).sum() / (2 * M)


g = np.zeros_like(z)
h = 1e-6
for idx in np.ndindex(z.shape):
    zp, zm = z.copy(), z.copy()
    zp[idx] += h
    zm[idx] -= h
    g[idx] = (loss(zp) - loss(zm)) / (2 * h)
F = mr.vector_field(A, z, "uniform", 1.3, 0.4)
eta = np.concatenate([np.full(N, 1.3), np.full(K, 0.4)])
check(np.allclose(F, -eta[:, None] * g, atol=1e-8), "uniform = gradient flow")
# degree: gradient divided by a_i/M resp. b_c/M
F = mr.vector_field(A, z, "degree", 1.3, 0.4)
w = np.concatenate([A.sum(1), A.sum(0)]) / M
check(np.allclose(F, -eta[:, None] * g / w[:, None], atol=1e-7), "degree = curvature-scaled gradient flow")

# 5. trajectory vs scaling-and-squaring Taylor expm, and vs RK4 with small steps
def expm_taylor(X):
    nrm = np.abs(X).sum(axis=1).max()
    s = max(0, int(math.ceil(math.log2(nrm))) + 2) if nrm > 0 else 0
    Y = X / 2 ** s
    E = np.eye(X.shape[0])
    T = np.eye(X.shape[0])
    for k in range(1, 30):
        T = T @ Y / k
        E = E + T
    for _ in range(s):
        E = E @ E
    return E


for rates, ex, ey in [("degree", 0.7, 1.9), ("uniform", 1.0, 1.0)]:
    m = mr.Model(A, rates, ex, ey)
    z0 = rng.standard_normal((N + K, 3))
    times = [0.0, 0.3, 2.0, 17.0]
    Z = m.propagate(z0, times)
    check(np.array_equal(Z[0], z0) or np.allclose(Z[0], z0, atol=1e-14), f"z(0) = z0 {rates}")
    for k, t in enumerate(times):
        Zt = expm_taylor(-m.J * t) @ z0
        check(np.allclose(Z[k], Zt, rtol=1e-10, atol=1e-12), f"propagate vs Taylor expm {rates} t={t}: "
              f"{np.abs(Z[k] - Zt).max()}")
    # RK4 to t = 2
    zz = z0.copy()
    hstep = 1e-3 / m.fast_rate
    nsteps = int(round(2.0 / hstep))
    hstep = 2.0 / nsteps
    f = lambda v: mr.vector_field(A, v, rates, ex, ey)  # noqa: E731
    for _ in range(nsteps):
        k1 = f(zz)
        k2 = f(zz + 0.5 * hstep * k1)
        k3 = f(zz + 0.5 * hstep * k2)
        k4 = f(zz + hstep * k3)
        zz = zz + hstep / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    check(np.allclose(Z[2], zz, rtol=1e-9, atol=1e-11), f"propagate vs RK4 {rates}: {np.abs(Z[2] - zz).max()}")

    # 6. stationary state: a huge t, and the conserved component means
    zinf = m.stationary(z0)
    check(np.allclose(m.propagate(z0, [1e4 / m.slow_rate])[0], zinf, atol=1e-10), f"stationary vs huge t {rates}")
    check(np.allclose(m.J @ zinf, 0, atol=1e-12), f"stationary is a fixed point {rates}")
    s = m.s
    comps = mr.class_graph_components(A)
    # node membership: a label is in its component, a sample in its labels' component
    comp_of_class = {c: k for k, cs in enumerate(comps) for c in cs}
    node_comp = [comp_of_class[int(np.nonzero(A[i])[0][0])] for i in range(N)] + [comp_of_class[c] for c in range(K)]
    node_comp = np.array(node_comp)
    for k in range(len(comps)):
        sel = node_comp == k
        mean = (z0[sel] / s[sel, None]).sum(0) / (1 / s[sel]).sum()
        check(np.allclose(zinf[sel], mean, atol=1e-12), f"stationary = weighted mean, comp {k} {rates}")

# 7. gd = (I - dt J)^k z0
m = mr.Model(A, "degree", 1.0, 1.0)
z0 = rng.standard_normal((N + K, 2))
dt = 0.1
out = mr.gd_trajectory(A, z0, dt, [0, 5, 40])
P = np.eye(N + K) - dt * m.J
check(np.allclose(out[40], np.linalg.matrix_power(P, 40) @ z0, atol=1e-12), "gd vs matrix power")
check(np.array_equal(out[0], z0), "gd step 0")

# 8. summaries on synthetic data
t = np.linspace(0, 10, 11)
D = 2.0 * np.exp(-0.7 * t)
ct = mr.collapse_time(t, D, 2.0, 1e-2)
check(abs(ct - math.log(100) / 0.7) < 1e-12, f"collapse_time {ct}")
check(mr.collapse_time(t, 2.0 * np.ones_like(t), 2.0) is None, "no collapse")
check(abs(mr.fitted_slow_rate(t, D, 2.0, 3.0) - 0.7) < 1e-12, "fitted slope")
check(mr.fitted_slow_rate(t, D, 2.0, 8.5) is None, "fit with < 3 points")

# 9. metrics on a hand-made state
A = mr.observations_to_matrix([(0, 0), (1, 1), (2, 0), (2, 1), (3, 1)])
y = np.array([[0.0, 0.0], [2.0, 0.0]])
x = np.array([[0.5, 0.0], [1.0, 0.0], [0.9, 0.0], [2.0, 1.0]])  # sample 1 on a tie -> wrong
ref = mr.metrics_reference(y)
r, dg = mr.state_metrics(A, x, y, ref)
check(r["accuracy"] == 2 / 3, f"accuracy {r['accuracy']}")
check(r["accuracy_frustrated"] == 1.0, "accuracy_frustrated")
check(abs(r["margin"] - ((1.5 - 0.5) + 0 + (math.sqrt(5) - 1)) / 3 / 2) < 1e-15, f"margin {r['margin']}")
check(abs(r["within_class_spread"] - (0.25 + 1 + 1) / 3) < 1e-15, "spread")
check(abs(r["loss"] - (0.25 + 1 + 0.81 + 1.21 + 1) / 10) < 1e-15, f"loss {r['loss']}")
check(r["label_effective_rank"] == 1.0 or abs(r["label_effective_rank"] - 1) < 1e-12, "effective rank")
check(r["min_label_distance"] == 2.0 and r["mean_label_distance"] == 2.0, "label distances")

print(f"{passes} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
