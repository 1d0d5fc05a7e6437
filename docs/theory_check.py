#!/usr/bin/python3
"""Numerical verification of every formula in docs/theory.md.

Brute force on purpose: the full (N+K) x (N+K) matrix J of dz/dt = -J z is
built densely from A, its spectrum comes from numpy.linalg.eigvals of the
*non-symmetric* J, and trajectories come from a scaling-and-squaring Taylor
matrix exponential of -J t (no eigendecomposition). The formulas of
docs/theory.md (conserved quantities, group reduction, K x K reduction and
propagator, two-class closed forms, metric conventions, initialisation
statistics) are evaluated independently and compared.

Run:  /usr/bin/python3 docs/theory_check.py      (numpy only; a few seconds)
Prints PASS/FAIL per check; exits 1 if any check fails.
Section numbers (s1..s7) refer to docs/theory.md.
"""

import math
import sys

import numpy as np

RESULTS = []


def check(name, ok, detail=""):
    ok = bool(ok)
    RESULTS.append((name, ok))
    print(("PASS" if ok else "FAIL") + "  " + name + (f"   [{detail}]" if detail else ""))
    return ok


def note(text):
    print("NOTE  " + text)


def relerr(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = max(np.max(np.abs(a)) if a.size else 0.0, np.max(np.abs(b)) if b.size else 0.0, 1e-300)
    return float(np.max(np.abs(a - b)) / scale) if a.size else 0.0


# ----------------------------------------------------------------------------
# data sets and dense brute force


def dataset(clean_sizes, extra_rows=(), K=None):
    """A (N x K) from clean class sizes (each clean sample seen once with its
    class) plus extra rows, each a tuple of labels (repeats = repeated
    observations; one distinct label = a clean sample observed several times)."""
    rows = []
    for c, n in enumerate(clean_sizes):
        rows += [(c,)] * n
    rows += list(extra_rows)
    if K is None:
        K = max(max(r) for r in rows) + 1
    A = np.zeros((len(rows), K))
    for i, r in enumerate(rows):
        for c in r:
            A[i, c] += 1.0
    assert (A.sum(1) > 0).all() and (A.sum(0) > 0).all()
    return A


def two_class(n, F):
    return dataset([n, n], [(0, 1)] * F)


def node_rates(A, scheme, ex, ey):
    a, b, M = A.sum(1), A.sum(0), A.sum()
    if scheme == "uniform":
        return np.r_[np.full(A.shape[0], ex / M), np.full(A.shape[1], ey / M)]
    return np.r_[ex / a, ey / b]


def laplacian(A):
    N, K = A.shape
    L = np.zeros((N + K, N + K))
    L[:N, :N] = np.diag(A.sum(1))
    L[N:, N:] = np.diag(A.sum(0))
    L[:N, N:] = -A
    L[N:, :N] = -A.T
    return L


def J_dense(A, scheme, ex, ey):
    return np.diag(node_rates(A, scheme, ex, ey)) @ laplacian(A)


def loss(A, z):
    """L = (1/2M) sum_ic A_ic |x_i - y_c|^2, z = (N+K) x d."""
    N = A.shape[0]
    x, y = z[:N], z[N:]
    diff2 = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return 0.5 * (A * diff2).sum() / A.sum()


def expm(X):
    """exp(X) by scaling and squaring of a Taylor series (independent of any
    eigendecomposition)."""
    n = X.shape[0]
    nrm = np.linalg.norm(X, 1)
    s = max(0, int(math.ceil(math.log2(nrm / 0.25)))) if nrm > 0 else 0
    Y = X / (2.0 ** s)
    E = np.eye(n)
    term = np.eye(n)
    for k in range(1, 40):
        term = term @ Y / k
        E = E + term
        if np.linalg.norm(term, 1) < 1e-18:
            break
    for _ in range(s):
        E = E @ E
    return E


def dense_spectrum(J):
    ev = np.linalg.eigvals(J)
    return np.sort(ev.real), float(np.max(np.abs(ev.imag)))


def class_components(A):
    """Components of the class graph (edge a-b for every sample seen with both)."""
    K = A.shape[1]
    parent = list(range(K))

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for row in A:
        labels = np.nonzero(row)[0]
        for c in labels[1:]:
            parent[find(c)] = find(labels[0])
    roots = sorted({find(c) for c in range(K)})
    return np.array([roots.index(find(c)) for c in range(K)])


def bipartite_components(A):
    """Components of the bipartite sample-label graph by BFS (independent)."""
    N, K = A.shape
    adj = laplacian(A) != 0
    comp = -np.ones(N + K, dtype=int)
    nc = 0
    for s0 in range(N + K):
        if comp[s0] >= 0:
            continue
        stack = [s0]
        comp[s0] = nc
        while stack:
            u = stack.pop()
            for v in np.nonzero(adj[u])[0]:
                if comp[v] < 0:
                    comp[v] = nc
                    stack.append(v)
        nc += 1
    return comp


def node_component(A):
    """Component of every node (samples then classes) from the class graph."""
    cc = class_components(A)
    first_label = np.array([np.nonzero(r)[0][0] for r in A])
    return np.r_[cc[first_label], cc]


def merge_rates(vals, tol):
    """Distinct values with multiplicities (chain-merge within tol)."""
    vals = np.sort(np.asarray(vals, dtype=float))
    out = []
    for v in vals:
        if out and v - out[-1][2] <= tol:
            out[-1][1] += 1
            out[-1][2] = v
        else:
            out.append([v, 1, v])
    return [(o[0], o[1]) for o in out]


# ----------------------------------------------------------------------------
# formulas of docs/theory.md


def lam_pm(mu, ex, ey):
    r = math.sqrt((ex - ey) ** 2 + 4 * ex * ey * mu)
    return 0.5 * ((ex + ey) - r), 0.5 * ((ex + ey) + r)


def lam_minus_stable(mu, ex, ey):
    return 2 * ex * ey * (1 - mu) / ((ex + ey) + math.sqrt((ex - ey) ** 2 + 4 * ex * ey * mu))


def kk_matrices(A):
    a, b = A.sum(1), A.sum(0)
    P = A / a[:, None]
    Q = (A / b[None, :]).T
    T = Q @ P
    S = (A / np.sqrt(b)[None, :]).T @ ((A / np.sqrt(b)[None, :]) / a[:, None])
    return P, Q, T, S


def kk_modes(A, ex, ey, mu_zero_tol=1e-12, literal=False):
    """Modes of the K x K reduction (s4). Each mode: dict(lam, mu, v, xvec, yvec, norm2).
    literal=True: eigenvector (eta_x P v, (eta_x - lam) v) for every branch,
    dropping the vectors that vanish (the form stated in the brief);
    otherwise mu = 0 modes use (0, v) with rate eta_y."""
    a, b = A.sum(1), A.sum(0)
    _, _, _, S = kk_matrices(A)
    mu, U = np.linalg.eigh(S)
    mu = np.clip(mu, 0.0, 1.0)
    V = U / np.sqrt(b)[:, None]  # B-orthonormal: v^T B v = 1
    modes = []
    for k in range(len(mu)):
        m, v = float(mu[k]), V[:, k]
        if m < mu_zero_tol and not literal:
            modes.append(dict(lam=ey, mu=0.0, v=v, xvec=np.zeros(A.shape[0]), yvec=v.copy(),
                              norm2=1.0 / ey))
            continue
        if m < mu_zero_tol:
            m = 0.0  # literal: mu = 0 exactly, vectors (ex P v, (ex - lam) v) with A v = 0
        for lam in lam_pm(m, ex, ey):
            xvec = ex * (A @ v) / a
            yvec = (ex - lam) * v
            norm2 = ex * m + (ex - lam) ** 2 / ey
            if literal and norm2 < 1e-20:
                continue
            modes.append(dict(lam=lam, mu=m, v=v, xvec=xvec, yvec=yvec, norm2=norm2))
    return modes


def kk_propagate(A, ex, ey, x0, y0, t, modes=None):
    """Exact degree-scheme state at time t from the K x K modes (s4):
    x(t) = e^{-ex t} x0 + ex P sum_k c_k (e^{-lam_k t} - e^{-ex t}) v_k
    y(t) = e^{-ex t} y0 + sum_k c_k (e^{-lam_k t} - e^{-ex t}) yvec_k
    y_modes(t) = sum_k c_k e^{-lam_k t} yvec_k   (the pure mode sum).
    Coefficients: c_k = [ (A^T x0) . v_k (mu>0 only) + (yvec_k * b / ey) . y0 ] / norm2_k."""
    a, b = A.sum(1), A.sum(0)
    if modes is None:
        modes = kk_modes(A, ex, ey)
    AtX = A.T @ x0  # the O(N d) pass
    ex_t = math.exp(-ex * t)
    vsum = np.zeros_like(y0)
    ysum = np.zeros_like(y0)
    ymodes = np.zeros_like(y0)
    for md in modes:
        ip = (md["yvec"] * b / ey) @ y0
        if md["mu"] > 0:
            ip = ip + md["v"] @ AtX
        c = ip / md["norm2"]
        g = math.exp(-md["lam"] * t) - ex_t
        if md["mu"] > 0:
            vsum += np.outer(md["v"], c) * g
        ysum += np.outer(md["yvec"], c) * g
        ymodes += np.outer(md["yvec"], c) * math.exp(-md["lam"] * t)
    x = ex_t * x0 + ex * (A @ vsum) / a[:, None]
    y = ex_t * y0 + ysum
    return x, y, ymodes


def groups(A):
    rows, inv, counts = np.unique(A, axis=0, return_inverse=True, return_counts=True)
    return rows, inv.ravel(), counts


def group_reduced(A, scheme, ex, ey):
    """Reduced (G+K) matrix Jr for (group means, labels), its symmetrizer D and
    the within-group rates s_g a_g (s3)."""
    R, inv, ng = groups(A)
    G, K = R.shape
    M = A.sum()
    ag = R.sum(1)
    bc = (ng[:, None] * R).sum(0)
    if scheme == "uniform":
        sg, sc = np.full(G, ex / M), np.full(K, ey / M)
    else:
        sg, sc = ex / ag, ey / bc
    Jr = np.zeros((G + K, G + K))
    Jr[:G, :G] = np.diag(sg * ag)
    Jr[:G, G:] = -sg[:, None] * R
    Jr[G:, G:] = np.diag(sc * bc)
    Jr[G:, :G] = -sc[:, None] * (ng[:, None] * R).T
    Dg = np.r_[np.sqrt(ng / sg), np.sqrt(1.0 / sc)]
    Jsym_pred = np.zeros_like(Jr)
    Jsym_pred[:G, :G] = np.diag(sg * ag)
    Jsym_pred[G:, G:] = np.diag(sc * bc)
    off = -np.sqrt(ng[:, None] * sg[:, None] * sc[None, :]) * R
    Jsym_pred[:G, G:] = off
    Jsym_pred[G:, :G] = off.T
    return dict(R=R, inv=inv, ng=ng, sg=sg, sc=sc, ag=ag, bc=bc, Jr=Jr, D=Dg,
                Jsym_pred=Jsym_pred, within=sg * ag)


def two_class_uniform_antisym(n, F, ex, ey):
    M = 2 * n + 2 * F
    tau = ex + ey * (n + F)
    det = ex * ey * F
    disc = math.sqrt(tau * tau - 4 * det)
    return 2 * det / (M * (tau + disc)), (tau + disc) / (2 * M)


def two_class_uniform_sym(n, F, ex, ey):
    M = 2 * n + 2 * F
    tr = 3 * ex + ey * (n + F)
    e2 = 2 * ex * ex + ex * ey * (F + 2 * n)
    disc = math.sqrt(tr * tr - 4 * e2)
    return 2 * e2 / (M * (tr + disc)), (tr + disc) / (2 * M)


def two_class_degree_slow(n, F, ex, ey):
    return lam_minus_stable(n / (n + F), ex, ey)


def fitted_slow_rate(t, D, t_start):
    D0 = D[0]
    sel = (t >= t_start) & (D > 1e-10 * D0)
    if sel.sum() < 3:
        return None
    return float(np.polyfit(t[sel], -np.log(D[sel]), 1)[0])


def collapse_time(t, D, eps):
    thr = eps * D[0]
    for j in range(len(t)):
        if D[j] <= thr:
            if j == 0:
                return float(t[0])
            l0, l1, lt = math.log(D[j - 1]), math.log(D[j]), math.log(thr)
            return float(t[j - 1] + (t[j] - t[j - 1]) * (l0 - lt) / (l0 - l1))
    return None


def min_label_distance(y):
    K = y.shape[0]
    return min(np.linalg.norm(y[p] - y[q]) for p in range(K) for q in range(p + 1, K))


# ----------------------------------------------------------------------------
# test instances

rng = np.random.default_rng(20260409)

INSTANCES = {
    # uneven classes, frustrated samples with 2 and 3 labels, repeated
    # observations (a clean sample seen twice, a frustrated one seen 2+1 times)
    "general": dataset([3, 5, 2, 4], [(0, 1), (0, 1), (1, 2), (2, 3, 0), (3, 3), (1, 1, 2), (0, 3)]),
    # rank deficient, three components: classes 0,1 share only frustrated
    # samples (identical columns, mu = 0); 2-3 linked by one sample; 4 alone
    "rankdef": dataset([0, 0, 2, 4, 3], [(0, 1)] * 3 + [(2, 3)]),
    # K > N: 2 samples, 3 classes (rank 2 < 3), one component
    "K>N": dataset([0, 0, 0], [(0, 1), (1, 2)]),
    # no frustration, uneven sizes and a repeated observation (claim 1)
    "clean": dataset([3, 6, 2], [(1, 1)]),
    # two classes, n clean each, F frustrated
    "two-class": two_class(6, 3),
}
ETAS = [(0.7, 1.9), (1.0, 1.0)]
SCHEMES = ["degree", "uniform"]


def rand_state(A, d=3, sigma=1.0):
    N, K = A.shape
    return rng.normal(0.0, sigma / math.sqrt(d), size=(N + K, d))


# ----------------------------------------------------------------------------
# s1 conventions


def section1():
    print("\n== s1 conventions: one form, J = S Lap, W-self-adjoint ==")
    for name, A in INSTANCES.items():
        for scheme in SCHEMES:
            ex, ey = 0.7, 1.9
            N, K = A.shape
            M = A.sum()
            J = J_dense(A, scheme, ex, ey)
            s = node_rates(A, scheme, ex, ey)
            z = rand_state(A)
            # brute-force gradient of L by central differences (L is quadratic)
            h = 1e-4
            grad = np.zeros_like(z)
            for n_ in range(N + K):
                for k in range(z.shape[1]):
                    zp, zm = z.copy(), z.copy()
                    zp[n_, k] += h
                    zm[n_, k] -= h
                    grad[n_, k] = (loss(A, zp) - loss(A, zm)) / (2 * h)
            eta = np.r_[np.full(N, ex), np.full(K, ey)]
            if scheme == "uniform":
                Fz = -eta[:, None] * grad
            else:
                # curvature d2L/dz2 by finite differences on coordinate 0
                curv = np.zeros(N + K)
                L0 = loss(A, z)
                for n_ in range(N + K):
                    zp, zm = z.copy(), z.copy()
                    zp[n_, 0] += 1e-2
                    zm[n_, 0] -= 1e-2
                    curv[n_] = (loss(A, zp) - 2 * L0 + loss(A, zm)) / 1e-4
                curv_pred = np.r_[A.sum(1), A.sum(0)] / M
                check(f"s1 [{name},{scheme}] curvature d2L/dz_n^2 = a_i/M, b_c/M",
                      relerr(curv, curv_pred) < 1e-6)
                Fz = -eta[:, None] * grad / curv_pred[:, None]
            check(f"s1 [{name},{scheme}] F(z) = -J z with J = S Lap",
                  relerr(Fz, -J @ z) < 1e-7, f"rel err {relerr(Fz, -J @ z):.1e}")
            Jsym = np.diag(np.sqrt(s)) @ laplacian(A) @ np.diag(np.sqrt(s))
            Wm = np.diag(1.0 / s)
            ev, im = dense_spectrum(J)
            check(f"s1 [{name},{scheme}] S^1/2 Lap S^1/2 symmetric, W J symmetric (W = 1/s), "
                  "spectrum real >= 0",
                  np.allclose(Jsym, Jsym.T) and np.allclose(Wm @ J, (Wm @ J).T)
                  and im < 1e-8 and ev[0] > -1e-10 * ev[-1])


# ----------------------------------------------------------------------------
# s2 conserved quantities and fixed points


def section2():
    print("\n== s2 conserved quantities, fixed points, zero modes ==")
    for name, A in INSTANCES.items():
        N, K = A.shape
        M = A.sum()
        a, b = A.sum(1), A.sum(0)
        cc = class_components(A)
        comp = node_component(A)
        bip = bipartite_components(A)
        same = all((comp[u] == comp[v]) == (bip[u] == bip[v])
                   for u in range(N + K) for v in range(N + K))
        check(f"s2 [{name}] class-graph components = bipartite-graph components "
              f"({cc.max() + 1})", same)
        for scheme in SCHEMES:
            for ex, ey in ETAS:
                J = J_dense(A, scheme, ex, ey)
                s = node_rates(A, scheme, ex, ey)
                z0 = rand_state(A)
                ncomp = cc.max() + 1
                # conservation: 1_comp^T S^-1 J = 0
                ok = all(np.abs(((comp == k) / s) @ J).max() < 1e-10 * np.abs(J).max() / s.min()
                         for k in range(ncomp))
                # explicit weights
                if scheme == "uniform":
                    w_expl = np.r_[np.full(N, 1 / ex), np.full(K, 1 / ey)]  # times M
                    ok_w = np.allclose(w_expl * M, 1 / s)
                else:
                    w_expl = np.r_[a / ex, b / ey]
                    ok_w = np.allclose(w_expl, 1 / s)
                tag = f"[{name},{scheme},ex={ex},ey={ey}]"
                check(f"s2 {tag} Q = sum z_n/s_n conserved per component; explicit weights",
                      ok and ok_w)
                ev, _ = dense_spectrum(J)
                nzero = int((ev < 1e-9 * ev[-1]).sum())
                check(f"s2 {tag} zero modes = components ({nzero} = {ncomp})", nzero == ncomp)
                # trajectory: Q(t) constant, limit = Q / sum 1/s
                t1 = 2.7
                z1 = expm(-J * t1) @ z0
                Q0 = np.array([((comp == k) / s) @ z0 for k in range(ncomp)])
                Q1 = np.array([((comp == k) / s) @ z1 for k in range(ncomp)])
                slow = ev[nzero]
                zinf = expm(-J * (60.0 / slow)) @ z0
                pred = np.array([Q0[comp[u]] / (1 / s[comp == comp[u]]).sum()
                                 for u in range(N + K)])
                check(f"s2 {tag} Q(t) = Q(0) and z(inf) = Q / sum_n 1/s_n",
                      relerr(Q1, Q0) < 1e-10 and relerr(zinf, pred) < 1e-8,
                      f"fixed point rel err {relerr(zinf, pred):.1e}")
                # explicit component means
                x0, y0 = z0[:N], z0[N:]
                pred2 = np.zeros_like(pred)
                for k in range(ncomp):
                    ci, cc_ = comp[:N] == k, comp[N:] == k
                    if scheme == "degree":
                        MC = a[ci].sum()
                        xa = (a[ci, None] * x0[ci]).sum(0) / MC
                        yb = (b[cc_, None] * y0[cc_]).sum(0) / MC
                        val = (ey * xa + ex * yb) / (ex + ey)
                        ok_mc = abs(MC - b[cc_].sum()) < 1e-12
                    else:
                        val = (x0[ci].sum(0) / ex + y0[cc_].sum(0) / ey) / (ci.sum() / ex
                                                                           + cc_.sum() / ey)
                        ok_mc = True
                    pred2[comp == k] = val
                check(f"s2 {tag} explicit component limit "
                      + ("(ey xbar^A + ex ybar^B)/(ex+ey)" if scheme == "degree"
                         else "(sum x/ex + sum y/ey)/(N_C/ex + K_C/ey)"),
                      ok_mc and relerr(pred2, pred) < 1e-12)
    # claim 1: without frustration each class ends at the weighted mean
    A = INSTANCES["clean"]
    N, K = A.shape
    lab = A.argmax(1)
    for scheme in SCHEMES:
        for ex, ey in ETAS:
            J = J_dense(A, scheme, ex, ey)
            z0 = rand_state(A)
            zinf = expm(-J * 200.0 / min(ex, ey) * (A.sum() if scheme == "uniform" else 1)) @ z0
            x0, y0 = z0[:N], z0[N:]
            pred = np.zeros((K, z0.shape[1]))
            for c in range(K):
                idx = lab == c
                n_c = idx.sum()
                if scheme == "degree":
                    m = A[idx, c]  # repeated observations weight the mean
                    xbar = (m[:, None] * x0[idx]).sum(0) / m.sum()
                    pred[c] = (ey * xbar + ex * y0[c]) / (ex + ey)
                else:
                    pred[c] = (ey * x0[idx].sum(0) + ex * y0[c]) / (n_c * ey + ex)
            ok = relerr(zinf[N:], pred) < 1e-8 and relerr(zinf[:N], pred[lab]) < 1e-8
            Dpred = min_label_distance(pred)
            check(f"s2 claim 1 [clean,{scheme},ex={ex},ey={ey}] y_c(inf) formula, "
                  "D(inf) predicted exactly",
                  ok and abs(min_label_distance(zinf[N:]) - Dpred) < 1e-8 * Dpred)


# ----------------------------------------------------------------------------
# s3 group reduction


def section3():
    print("\n== s3 group reduction ==")
    for name, A in INSTANCES.items():
        N, K = A.shape
        for scheme in SCHEMES:
            ex, ey = 0.7, 1.9
            J = J_dense(A, scheme, ex, ey)
            gr = group_reduced(A, scheme, ex, ey)
            G = gr["R"].shape[0]
            inv = gr["inv"]
            tag = f"[{name},{scheme}]"
            # within-group differences are eigenvectors with rate s_g a_g
            ok = True
            for g in range(G):
                members = np.nonzero(inv == g)[0]
                for j in members[1:]:
                    e = np.zeros(N + K)
                    e[members[0]], e[j] = 1, -1
                    ok &= np.allclose(J @ e, gr["within"][g] * e)
            check(f"s3 {tag} x_i - x_j (same group) decays at s_g a_g", ok)
            Dm = np.diag(gr["D"])
            Js = Dm @ gr["Jr"] @ np.linalg.inv(Dm)
            check(f"s3 {tag} D Jr D^-1 symmetric with the stated entries",
                  np.allclose(Js, Js.T) and np.allclose(Js, gr["Jsym_pred"]))
            pred = list(np.linalg.eigvalsh(gr["Jsym_pred"]))
            for g in range(G):
                pred += [gr["within"][g]] * (gr["ng"][g] - 1)
            ev, _ = dense_spectrum(J)
            check(f"s3 {tag} spectrum = eig(G+K) + within-group rates x (n_g-1)",
                  len(pred) == N + K and relerr(np.sort(pred), ev) < 1e-9)
            # trajectory: group means + labels from Jr, samples from within-group decay
            z0 = rand_state(A)
            t = 1.3 if scheme == "degree" else 1.3 * A.sum()
            zt = expm(-J * t) @ z0
            X0 = np.array([z0[:N][inv == g].mean(0) for g in range(G)])
            red = expm(-gr["Jr"] * t) @ np.r_[X0, z0[N:]]
            xt = red[:G][inv] + np.exp(-gr["within"][inv] * t)[:, None] * (z0[:N] - X0[inv])
            check(f"s3 {tag} exact state from (G+K) means + within-group decay",
                  relerr(np.r_[xt, red[G:]], zt) < 1e-10)


# ----------------------------------------------------------------------------
# s4 K x K reduction under degree


def section4():
    print("\n== s4 K x K reduction (degree) ==")
    for name, A in INSTANCES.items():
        N, K = A.shape
        a, b = A.sum(1), A.sum(0)
        P, Q, T, S = kk_matrices(A)
        mu = np.linalg.eigvalsh(S)
        Bh = np.diag(np.sqrt(b))
        ncomp = class_components(A).max() + 1
        rank = np.linalg.matrix_rank(A)
        check(f"s4 [{name}] T row-stochastic, S = B^1/2 T B^-1/2 symmetric, mu in [0,1], "
              f"#(mu=1) = #components, #(mu=0) = K - rank A ({K - rank})",
              np.allclose(T.sum(1), 1) and np.allclose(S, Bh @ T @ np.linalg.inv(Bh))
              and np.allclose(S, S.T) and mu.min() > -1e-12 and mu.max() < 1 + 1e-12
              and int((mu > 1 - 1e-10).sum()) == ncomp
              and int((mu < 1e-10).sum()) == K - rank)
        for ex, ey in ETAS + [(2.5, 0.4)]:
            tag = f"[{name},ex={ex},ey={ey}]"
            J = J_dense(A, "degree", ex, ey)
            ev, _ = dense_spectrum(J)
            # robust statement: mu > 0 -> lambda_pm(mu); mu = 0 -> eta_y once;
            # eta_x with multiplicity N - rank(A)
            pred = []
            for m in np.clip(mu, 0, 1):
                pred += list(lam_pm(m, ex, ey)) if m > 1e-10 else [ey]
            pred += [ex] * (N - rank)
            check(f"s4 {tag} spectrum = lambda_pm(mu>0), eta_y per mu=0, eta_x x (N - rank A)",
                  len(pred) == N + K and relerr(np.sort(pred), ev) < 1e-9,
                  f"rel err {relerr(np.sort(pred), ev):.1e}")
            # the formal count: lambda_pm for every mu (mu = 0 -> eta_x and eta_y)
            # plus eta_x x (N - K); meaningful as a multiset only when N >= K
            if N >= K:
                pred2 = []
                for m in np.clip(mu, 0, 1):
                    pred2 += list(lam_pm(m, ex, ey))
                pred2 += [ex] * (N - K)
                check(f"s4 {tag} (N >= K) same as lambda_pm for every mu + eta_x x (N-K)",
                      relerr(np.sort(pred2), ev) < 1e-9)
            else:
                note(f"s4 {tag}: N - K = {N - K} < 0, the count 'eta_x x (N-K)' is negative; "
                     f"eta_x actually has multiplicity N - rank A = {N - rank}")
            below = mu[mu < 1 - 1e-10]
            if below.size:
                nzr = ev[ev > 1e-9 * ev[-1]]
                check(f"s4 {tag} slow_rate = lambda_-(mu*), mu* = largest mu below 1",
                      abs(nzr[0] - lam_minus_stable(float(below.max()), ex, ey)) < 1e-10 * ev[-1])
            ok_stable = all(abs(lam_minus_stable(m, ex, ey) - lam_pm(m, ex, ey)[0])
                            < 1e-12 * (ex + ey) for m in np.clip(mu, 0, 1))
            eps_ = 2.0 ** -43  # 1 - eps_ is exact in binary
            naive = lam_pm(1 - eps_, ex, ey)[0]
            exact_ = ex * ey * eps_ / (ex + ey) * (1 + ex * ey * eps_ / (ex + ey) ** 2)
            ok_tiny = abs(lam_minus_stable(1 - eps_, ex, ey) - exact_) < 1e-12 * exact_
            check(f"s4 {tag} stable small root 2 ex ey (1-mu)/(ex+ey+sqrt(...)) "
                  "(and accurate at 1-mu = 2^-43)", ok_stable and ok_tiny,
                  f"naive form rel err there {abs(naive - exact_) / exact_:.1e}")
            # eigenvectors, norms, W-orthogonality
            modes = kk_modes(A, ex, ey)
            Wd = np.r_[a / ex, b / ey]
            E = np.array([np.r_[md["xvec"], md["yvec"]] for md in modes]).T
            ok_vec = all(np.allclose(J @ E[:, k], md["lam"] * E[:, k], atol=1e-12)
                         for k, md in enumerate(modes))
            Gm = E.T @ (Wd[:, None] * E)
            norms = np.array([md["norm2"] for md in modes])
            ok_orth = np.allclose(Gm, np.diag(norms), atol=1e-12)
            check(f"s4 {tag} eigenvectors (ex P v, (ex-lam) v) [mu=0: (0,v), rate ey]; "
                  "W-orthogonal; norm^2 = ex mu + (ex-lam)^2/ey", ok_vec and ok_orth)
            # the eta_x eigenspace has no label component (ex != ey)
            if ex != ey:
                null = [k for k in range(N + K) if abs(ev[k] - ex) < 1e-9]
                Ex = np.linalg.svd(J - ex * np.eye(N + K))[2][-len(null):] if null else None
                ok = Ex is None or np.abs(Ex[:, N:]).max() < 1e-8
                check(f"s4 {tag} eta_x eigenvectors have y = 0 (ex != ey)", ok)
            # propagator
            z0 = rand_state(A)
            x0, y0 = z0[:N], z0[N:]
            worst = 0.0
            worst_modes = 0.0
            for t in [0.0, 0.37, 2.0, 11.0]:
                zt = expm(-J * t) @ z0
                x, y, ym = kk_propagate(A, ex, ey, x0, y0, t, modes)
                worst = max(worst, relerr(np.r_[x, y], zt))
                worst_modes = max(worst_modes, relerr(ym, zt[N:]))
            check(f"s4 {tag} propagator x(t), y(t) (general form) = expm(-J t) z0",
                  worst < 1e-10, f"rel err {worst:.1e}")
            check(f"s4 {tag} y(t) = sum_k c_k e^(-lam_k t) yvec_k (mu=0 modes as (0,v))",
                  worst_modes < 1e-10, f"rel err {worst_modes:.1e}")
            # the literal form (eigenvector (ex - lam) v also for mu = 0)
            lit = kk_modes(A, ex, ey, literal=True)
            err_lit = 0.0
            for t in [0.37, 2.0]:
                zt = expm(-J * t) @ z0
                _, _, ym = kk_propagate(A, ex, ey, x0, y0, t, lit)
                err_lit = max(err_lit, relerr(ym, zt[N:]))
            if rank < K and ex == ey:
                check(f"s4 {tag} literal y(t) = sum c_k e^(-lam t)(ex-lam) v_k is wrong here "
                      "(rank-deficient A, ex = ey: expected; see theory.md s4)",
                      err_lit > 1e-3, f"rel err {err_lit:.1e}")
            else:
                check(f"s4 {tag} literal y(t) = sum c_k e^(-lam t)(ex-lam) v_k holds here",
                      err_lit < 1e-8, f"rel err {err_lit:.1e}")


# ----------------------------------------------------------------------------
# s5 two timescales, two classes


def section5():
    print("\n== s5 two classes, n clean each, F frustrated ==")
    cases = [(6, 3, 1.0, 1.0), (6, 3, 0.7, 1.9), (10, 1, 2.5, 0.4), (4, 9, 1.0, 1.0),
             (1, 5, 1.3, 0.05), (25, 2, 1.0, 3.0)]
    for n, F, ex, ey in cases:
        A = two_class(n, F)
        N = A.shape[0]
        f = F / (2 * n + F)
        tag = f"[n={n},F={F},ex={ex},ey={ey}]"
        # degree
        J = J_dense(A, "degree", ex, ey)
        ev, _ = dense_spectrum(J)
        _, _, _, S = kk_matrices(A)
        mu = np.linalg.eigvalsh(S)
        mu2 = n / (n + F)
        lam_s = two_class_degree_slow(n, F, ex, ey)
        lam_closed = 0.5 * ((ex + ey) - math.sqrt((ex - ey) ** 2 + 4 * ex * ey * n / (n + F)))
        check(f"s5 degree {tag} mu = {{n/(n+F), 1}}; (1-f)/(1+f) = n/(n+F)",
              np.allclose(mu, [mu2, 1.0]) and abs((1 - f) / (1 + f) - mu2) < 1e-14)
        nz = ev[ev > 1e-9 * ev[-1]]
        check(f"s5 degree {tag} lambda_slow closed form = smallest nonzero dense rate",
              abs(nz[0] - lam_s) < 1e-10 * ev[-1] and abs(lam_closed - lam_s) < 1e-12,
              f"{lam_s:.6g}")
        lp = lam_pm(mu2, ex, ey)[1]
        pred = [(0.0, 1), (lam_s, 1), (ex, N - 2), (lp, 1), (ex + ey, 1)]
        pred = sorted(pred)
        got = merge_rates(ev, 1e-9 * ev[-1])
        ok = len(got) == len(pred) and all(abs(g[0] - p[0]) < 1e-8 * (ex + ey) and g[1] == p[1]
                                            for g, p in zip(got, pred))
        check(f"s5 degree {tag} distinct rates 0x1, slow x1, ex x(N-2), lambda_+ x1, ex+ey x1; "
              "fast = ex+ey", ok and abs(ev[-1] - (ex + ey)) < 1e-10)
        Jd = J
        z0 = rand_state(A, d=2)
        dz = -Jd @ z0
        u = z0[:n].mean(0) - z0[n:2 * n].mean(0)
        v = z0[N] - z0[N + 1]
        du = dz[:n].mean(0) - dz[n:2 * n].mean(0)
        dv = dz[N] - dz[N + 1]
        Md = np.array([[ex, -ex], [-ey * mu2, ey]])
        check(f"s5 degree {tag} (u, v)' = -[[ex,-ex],[-ey mu, ey]] (u, v), mu = n/(n+F)",
              relerr(np.array([du, dv]), -Md @ np.array([u, v])) < 1e-12
              and np.allclose(np.sort(np.linalg.eigvals(Md).real), [lam_s, lp]))
        if ex == ey:
            check(f"s5 degree {tag} ex = ey: lambda_slow = eta (1 - sqrt((1-f)/(1+f)))",
                  abs(lam_s - ex * (1 - math.sqrt((1 - f) / (1 + f)))) < 1e-12)
        # uniform
        J = J_dense(A, "uniform", ex, ey)
        ev, _ = dense_spectrum(J)
        la, la_p = two_class_uniform_antisym(n, F, ex, ey)
        ls, ls_p = two_class_uniform_sym(n, F, ex, ey)
        M = 2 * n + 2 * F
        nz = ev[ev > 1e-9 * ev[-1]]
        check(f"s5 uniform {tag} antisymmetric small root = smallest nonzero dense rate",
              abs(nz[0] - la) < 1e-9 * ev[-1], f"{la:.6g}")
        pred = [0.0, la, la_p, ls, ls_p] + [ex / M] * (2 * (n - 1)) + [2 * ex / M] * (F - 1)
        check(f"s5 uniform {tag} full spectrum: 0, antisym pair, sym pair, ex/M x 2(n-1), "
              "2ex/M x (F-1)", len(pred) == N + 2 and relerr(np.sort(pred), ev) < 1e-9)
        # the antisymmetric sector is closed: u = X_0 - X_1 (clean group means), v = y_0 - y_1
        z0 = rand_state(A, d=2)
        dz = -J @ z0
        u = z0[:n].mean(0) - z0[n:2 * n].mean(0)
        v = z0[N] - z0[N + 1]
        du = dz[:n].mean(0) - dz[n:2 * n].mean(0)
        dv = dz[N] - dz[N + 1]
        Ma = np.array([[ex, -ex], [-ey * n, ey * (n + F)]]) / M
        pr = -Ma @ np.array([u, v])
        check(f"s5 uniform {tag} (u, v)' = -(1/M)[[ex,-ex],[-ey n, ey(n+F)]] (u, v), "
              "roots in closed form",
              relerr(np.array([du, dv]), pr) < 1e-12
              and np.allclose(np.sort(np.linalg.eigvals(Ma).real), [la, la_p]))
        check(f"s5 uniform {tag} ordering: lambda_a <= ex/M < sym roots",
              la <= ex / M * (1 + 1e-12) and la < ls)
        # min_label_distance decays in the antisymmetric two-mode sector
        for scheme in SCHEMES:
            J = J_dense(A, scheme, ex, ey)
            if scheme == "degree":
                l1, l2 = two_class_degree_slow(n, F, ex, ey), lam_pm(mu2, ex, ey)[1]
            else:
                l1, l2 = la, la_p
            z0 = rand_state(A, d=4)
            h = 0.7 / l2
            Eh = expm(-J * h)
            zs = [z0]
            for _ in range(3):
                zs.append(Eh @ zs[-1])
            dlt = [z[N] - z[N + 1] for z in zs]
            resid = dlt[3] - (math.exp(-l1 * h) + math.exp(-l2 * h)) * dlt[2] \
                + math.exp(-(l1 + l2) * h) * dlt[1]
            ok_rec = np.linalg.norm(resid) < 1e-9 * np.linalg.norm(dlt[0])
            tl = 30.0 / l1 * 0.5
            tl = min(tl, 25.0 / (l2 - l1) + 2.0 / l1)
            za = expm(-J * tl) @ z0
            zb = expm(-J * (tl + 1.0 / l1)) @ z0
            rate = math.log(np.linalg.norm(za[N] - za[N + 1]) / np.linalg.norm(zb[N] - zb[N + 1])) \
                * l1
            check(f"s5 {scheme} {tag} y0-y1 = two exponentials (slow, its partner); "
                  "late -dlogD/dt = lambda_slow",
                  ok_rec and abs(rate - l1) < 1e-6 * l1, f"rate {rate:.8g} vs {l1:.8g}")
    # series (closed form as a function of f, exact rational-free check)
    print("-- small-f expansions")
    for ex, ey in [(1.0, 1.0), (0.7, 1.9), (3.0, 0.2)]:
        p, s_ = ex * ey, ex + ey
        c1 = 2 * p / s_
        c2 = -c1 * (ex * ex + ey * ey) / s_ ** 2
        errs1, errs2 = [], []
        for f in [1e-2, 3e-3, 1e-3]:
            mu = (1 - f) / (1 + f)
            lam = lam_minus_stable(mu, ex, ey)
            errs1.append((lam - c1 * f) / f ** 2)
            errs2.append((lam - c1 * f - c2 * f * f) / f ** 3)
        ok = abs(errs1[-1] - c2) < 2e-2 * abs(c2) and max(abs(e) for e in errs2) < 10 * c1
        check(f"s5 degree ex={ex},ey={ey}: lambda_slow = 2 ex ey f/(ex+ey) "
              "[1 - (ex^2+ey^2)/(ex+ey)^2 f] + O(f^3)", ok,
              f"(lam - c1 f)/f^2 -> {errs1[-1]:.5g} vs c2 = {c2:.5g}")
        if ex == ey:
            c3 = [(lam_minus_stable((1 - f) / (1 + f), ex, ey) / ex - f + f * f / 2) / f ** 3
                  for f in [1e-2, 1e-3]]
            check("s5 degree ex=ey: lambda_slow/eta = f - f^2/2 + f^3/2 + O(f^4)",
                  abs(c3[-1] - 0.5) < 2e-3, f"coef of f^3 -> {c3[-1]:.6f}")
    for n, ex, ey in [(10, 1.0, 1.0), (40, 0.7, 1.9), (5, 2.0, 0.1)]:
        rat = []
        for F in [1e-2, 1e-3, 1e-4]:  # the closed form is analytic in F
            la, _ = two_class_uniform_antisym(n, F, ex, ey)
            rat.append(la / (ex * ey * F / (2 * n * (ex + ey * n))))
        f = 1e-4 / (2 * n + 1e-4)
        la, _ = two_class_uniform_antisym(n, 1e-4, ex, ey)
        check(f"s5 uniform n={n},ex={ex},ey={ey}: small-F root -> ex ey F/(2n (ex + ey n)) "
              "= ex ey f/(ex + ey n)",
              abs(rat[-1] - 1) < 1e-3 and abs(rat[-1] - 1) < abs(rat[0] - 1)
              and abs(la / (ex * ey * f / (ex + ey * n)) - 1) < 1e-3,
              f"ratios {', '.join(f'{r:.6f}' for r in rat)}")
    # 1/N scaling under uniform at fixed f
    for ex, ey, f in [(1.0, 1.0, 0.2), (0.7, 1.9, 0.05)]:
        vals = []
        for n in [100, 1000, 10000, 100000]:
            F = 2 * n * f / (1 - f)
            N = 2 * n + F
            la, la_p = two_class_uniform_antisym(n, F, ex, ey)
            _, ls_p = two_class_uniform_sym(n, F, ex, ey)
            vals.append((N * la, max(la_p, ls_p)))
        lim = 2 * ex * f / (1 + f) ** 2
        check(f"s5 uniform ex={ex},ey={ey},f={f}: N lambda_slow -> 2 ex f/(1+f)^2, "
              "fast rate -> ey/2 as N -> inf",
              abs(vals[-1][0] / lim - 1) < 1e-3 and abs(vals[-1][1] / (ey / 2) - 1) < 1e-3,
              f"N lam: {vals[0][0]:.5g} .. {vals[-1][0]:.6g} vs {lim:.6g}")
    # dense confirmation of the ordering proof over a parameter grid
    bad = 0
    for n in [1, 2, 5, 30]:
        for F in [1, 3, 20]:
            for ex in [0.01, 1.0, 100.0]:
                for ey in [0.01, 1.0, 100.0]:
                    la, _ = two_class_uniform_antisym(n, F, ex, ey)
                    ls, _ = two_class_uniform_sym(n, F, ex, ey)
                    M = 2 * n + 2 * F
                    bad += not (la <= ex / M * (1 + 1e-12) and la < ls)
    check("s5 uniform: antisymmetric small root is the slow rate over a grid "
          "(n, F, ex, ey spanning 1e4)", bad == 0)


# ----------------------------------------------------------------------------
# s6 fitted slow rate and collapse time


def section6():
    print("\n== s6 fitted_slow_rate and collapse_time ==")
    for n, F, ex, ey in [(20, 4, 1.0, 1.0), (8, 2, 0.7, 1.9)]:
        A = two_class(n, F)
        N = A.shape[0]
        J = J_dense(A, "degree", ex, ey)
        ev, _ = dense_spectrum(J)
        rates = merge_rates(ev, 1e-9 * ev[-1])
        slow, nxt = rates[1][0], rates[2][0]
        z0 = rand_state(A, d=5)
        t = np.r_[0.0, np.logspace(-2, math.log10(40 / slow), 300)]
        # exact trajectory by one small step matrix per interval
        D = []
        for tt in t:
            z = expm(-J * tt) @ z0
            D.append(np.linalg.norm(z[N] - z[N + 1]))
        D = np.array(D)
        fit = fitted_slow_rate(t, D, 5.0 / nxt)
        tag = f"[degree,n={n},F={F},ex={ex},ey={ey}]"
        check(f"s6 {tag} fitted_slow_rate (t >= 5/lambda_next, D > 1e-10 D0) = slow_rate",
              fit is not None and abs(fit - slow) < 1e-3 * slow,
              f"fit {fit:.6g} vs {slow:.6g} (lambda_next = {nxt:.4g})")
        eps = 1e-2
        tc = collapse_time(t, D, eps)
        # exact first crossing by bisection on the exact trajectory
        j = int(np.argmax(D <= eps * D[0]))
        lo, hi = t[j - 1], t[j]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            z = expm(-J * mid) @ z0
            if np.linalg.norm(z[N] - z[N + 1]) <= eps * D[0]:
                hi = mid
            else:
                lo = mid
        check(f"s6 {tag} collapse_time (log D linear in t) matches the exact crossing",
              tc is not None and abs(tc - hi) < 1e-3 * hi, f"{tc:.6g} vs {hi:.6g}")
    # K = 4, one component, uneven sizes: the closest pair decays at slow_rate
    for scheme in SCHEMES:
        A = INSTANCES["general"]
        N = A.shape[0]
        J = J_dense(A, scheme, 1.0, 1.0)
        ev, _ = dense_spectrum(J)
        rates = merge_rates(ev, 1e-9 * ev[-1])
        slow, nxt = rates[1][0], rates[2][0]
        z0 = rand_state(A, d=5)
        t = np.r_[0.0, np.logspace(-2, math.log10(30 / slow), 300)]
        D = np.array([min_label_distance((expm(-J * tt) @ z0)[N:]) for tt in t])
        fit = fitted_slow_rate(t, D, 5.0 / nxt)
        check(f"s6 [general K=4,{scheme}] fitted_slow_rate ~ slow_rate (one component)",
              fit is not None and abs(fit - slow) < 1e-2 * slow,
              f"fit {fit:.6g} vs {slow:.6g}, lambda_next = {nxt:.4g}")
    # no frustration: D stays finite, collapse_time null
    A = INSTANCES["clean"]
    N = A.shape[0]
    J = J_dense(A, "degree", 1.0, 1.0)
    z0 = rand_state(A)
    t = np.r_[0.0, np.logspace(-2, 3, 60)]
    D = np.array([min_label_distance((expm(-J * tt) @ z0)[N:]) for tt in t])
    check("s6 [clean] collapse_time null without frustration", collapse_time(t, D, 1e-2) is None)


# ----------------------------------------------------------------------------
# s7 initialisation statistics and final separation


def section7():
    print("\n== s7 initialisation and final separation ==")
    sigma, d = 1.3, 5
    mc = np.random.default_rng(7)
    R = 200000
    dlt = mc.normal(0, sigma / math.sqrt(d), size=(R, d)) - mc.normal(0, sigma / math.sqrt(d),
                                                                       size=(R, d))
    D0 = np.linalg.norm(dlt, axis=1)
    ED = 2 * sigma * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2)) / math.sqrt(d)
    se2 = (D0 ** 2).std() / math.sqrt(R)
    se1 = D0.std() / math.sqrt(R)
    check(f"s7 K=2: E D(0)^2 = 2 sigma^2, E D(0) = 2 sigma Gamma((d+1)/2)/(sqrt(d) Gamma(d/2)) "
          f"(Monte Carlo, d={d})",
          abs((D0 ** 2).mean() - 2 * sigma ** 2) < 5 * se2 and abs(D0.mean() - ED) < 5 * se1,
          f"{D0.mean():.5f} vs {ED:.5f}")
    g_exact = [2 * math.exp(math.lgamma((dd + 1) / 2) - math.lgamma(dd / 2)) / math.sqrt(dd)
               for dd in (50, 100, 200)]
    g_corr = [(g / math.sqrt(2) - 1 + 1 / (4 * dd)) * dd * dd for g, dd in zip(g_exact, (50, 100, 200))]
    check("s7 E D(0) = sqrt(2) sigma (1 - 1/(4d) + O(1/d^2))",
          max(abs(c) for c in g_corr) < 0.1, f"d^2 * remainder: {g_corr[-1]:.4f}")
    # expected squared final separation without frustration: exact via projector
    for na, nb in [(3, 3), (2, 7)]:
        A = dataset([na, nb])
        N, K = A.shape
        for scheme in SCHEMES:
            for ex, ey in ETAS:
                J = J_dense(A, scheme, ex, ey)
                ev, _ = dense_spectrum(J)
                Pi = expm(-J * (80.0 / ev[ev > 1e-9 * ev[-1]][0]))  # -> projector
                row = Pi[N] - Pi[N + 1]
                exact = sigma ** 2 * (row ** 2).sum()  # each node: d coords of var sigma^2/d
                if scheme == "degree":
                    pred = sigma ** 2 * (ey ** 2 * (1 / na + 1 / nb) + 2 * ex ** 2) / (ex + ey) ** 2
                else:
                    pred = sigma ** 2 * sum((ey ** 2 * m + ex ** 2) / (m * ey + ex) ** 2
                                            for m in (na, nb))
                check(f"s7 [{scheme},na={na},nb={nb},ex={ex},ey={ey}] E|y_a(inf)-y_b(inf)|^2 "
                      "formula", abs(exact - pred) < 1e-8 * pred, f"{pred:.6g}")


def main():
    section1()
    section2()
    section3()
    section4()
    section5()
    section6()
    section7()
    nfail = sum(not ok for _, ok in RESULTS)
    print(f"\n{len(RESULTS) - nfail}/{len(RESULTS)} checks passed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
