#!/usr/bin/python3
"""Independent NumPy reference for the linear teacher-student model
(docs/model.md section 4), written from the specification, not from the C code.

The C code sums residuals observation by observation; here every term is a
dense matrix expression over the pair weight matrix A (N x K):

  term  w/(2M) sum_ic A_ic |Hx x_i - Hy y_c|^2   (Hx, Hy: I or P; sign irrelevant)
  Rx = diag(a) X Hx^T - A Y Hy^T      (row i: sum_c A_ic r_ic)
  Ry = A^T X Hx^T - diag(b) Y Hy^T    (row c: sum_i A_ic r_ic)
  dL/dX = (w/M) Rx Hx       unless the x branch is under sg
  dL/dY = -(w/M) Ry Hy      unless the y branch is under sg
  dL/dP += (w/M) Rx^T X  if Hx = P and x not under sg;  -= (w/M) Ry^T Y  if Hy = P and y not under sg

and the teacher-student chain rule X = U W^T, dL/dW = G^T U with the rates of
section 4 (degree: G's rows times M / a_i, labels times M / b_c).

    /usr/bin/python3 tests/reference/ts_ref.py        # self-test (finite differences, linearity)
"""

import sys

import numpy as np

# a term: (weight, source, source_head, target_head, stop_gradient); source 'x' or 'y'
PRESETS = {
    "minimal": [(1.0, "x", False, False, False)],
    "head": [(1.0, "x", True, False, False)],
    "siam": [(1.0, "x", True, False, False), (1.0, "y", True, False, False)],
    "siam-sg": [(1.0, "x", True, False, True), (1.0, "y", True, False, True)],
}


def weight_matrix(obs, counts, N, K):
    """A (N x K) from (sample, label) rows and their counts."""
    A = np.zeros((N, K))
    for (i, c), a in zip(obs, counts):
        A[int(i), int(c)] += a
    return A


def term_parts(term):
    """(hx, hy, sg_x, sg_y): heads on the x and y branches, which branch is under sg."""
    w, src, hs, ht, sg = term
    if src == "x":
        return w, hs, ht, False, sg
    return w, ht, hs, sg, False


def loss(A, X, Y, P, terms, Xt=None, Yt=None, Pt=None):
    """Sum of the terms; the target branch of an sg term reads the frozen (Xt, Yt, Pt)."""
    M = A.sum()
    L = 0.0
    for term in terms:
        w, hx, hy, sgx, sgy = term_parts(term)
        Xs = Xt if (sgx and Xt is not None) else X
        Ys = Yt if (sgy and Yt is not None) else Y
        Px = Pt if (sgx and Pt is not None) else P
        Py = Pt if (sgy and Pt is not None) else P
        HX = Xs @ Px.T if hx else Xs
        HY = Ys @ Py.T if hy else Ys
        d2 = (HX ** 2).sum(1)[:, None] - 2 * HX @ HY.T + (HY ** 2).sum(1)[None, :]
        L += w / (2 * M) * (A * d2).sum()
    return L


def gradients(A, X, Y, P, terms):
    """dL/dX, dL/dY, dL/dP of the terms (stop-gradient respected)."""
    M = A.sum()
    a, b = A.sum(1), A.sum(0)
    d = X.shape[1]
    I = np.eye(d)
    GX, GY, GP = np.zeros_like(X), np.zeros_like(Y), np.zeros((d, d))
    for term in terms:
        w, hx, hy, sgx, sgy = term_parts(term)
        Hx = P if hx else I
        Hy = P if hy else I
        Rx = a[:, None] * (X @ Hx.T) - A @ (Y @ Hy.T)
        Ry = A.T @ (X @ Hx.T) - b[:, None] * (Y @ Hy.T)
        if not sgx:
            GX += w / M * Rx @ Hx
            if hx:
                GP += w / M * Rx.T @ X
        if not sgy:
            GY -= w / M * Ry @ Hy
            if hy:
                GP -= w / M * Ry.T @ Y
    return GX, GY, GP


def vector_field(U, A, W, Y, P, terms, rates="degree", eta_w=1.0, eta_y=1.0, eta_head=1.0):
    """dW/dt, dY/dt, dP/dt of section 4 (P may be None for models without a head)."""
    M = A.sum()
    a, b = A.sum(1), A.sum(0)
    X = U @ W.T
    Pm = P if P is not None else np.eye(W.shape[0])
    GX, GY, GP = gradients(A, X, Y, Pm, terms)
    sx = M / a if rates == "degree" else np.ones_like(a)
    sy = M / b if rates == "degree" else np.ones_like(b)
    dW = -eta_w * (sx[:, None] * GX).T @ U
    dY = -eta_y * sy[:, None] * GY
    dP = -eta_head * GP if P is not None else None
    return dW, dY, dP


def gd_step(U, A, W, Y, P, terms, dt, **kw):
    dW, dY, dP = vector_field(U, A, W, Y, P, terms, **kw)
    return W + dt * dW, Y + dt * dY, (P + dt * dP if P is not None else None)


def jacobian_radius(U, A, W, Y, P, terms, **kw):
    """Largest |eigenvalue| of the Jacobian of the field (dense, by central differences)."""
    shapes = [W.shape, Y.shape] + ([P.shape] if P is not None else [])
    sizes = [int(np.prod(s)) for s in shapes]

    def pack(parts):
        return np.concatenate([p.ravel() for p in parts if p is not None])

    def unpack(z):
        out, o = [], 0
        for s, n in zip(shapes, sizes):
            out.append(z[o:o + n].reshape(s))
            o += n
        return out + [None] * (3 - len(out))

    z0 = pack([W, Y, P])
    n = z0.size
    J = np.zeros((n, n))
    h = 1e-6
    for q in range(n):
        e = np.zeros(n)
        e[q] = h
        fp = pack(vector_field(U, *[A], *unpack(z0 + e), terms, **kw))
        fm = pack(vector_field(U, *[A], *unpack(z0 - e), terms, **kw))
        J[:, q] = (fp - fm) / (2 * h)
    return np.abs(np.linalg.eigvals(J)).max()


def _selftest():
    rng = np.random.default_rng(3)
    N, K, D, d = 9, 3, 12, 4
    A = np.zeros((N, K))
    for i in range(N):
        A[i, i % K] = 1
    A[0, 1] = 1  # a frustrated sample
    A[4, 2] = 2  # and one seen twice with another label
    U = rng.normal(size=(N, D)) / np.sqrt(D)
    W = rng.normal(size=(d, D)) / np.sqrt(d)
    Y = rng.normal(size=(K, d)) / np.sqrt(d)
    P = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    fails = 0
    for name, terms in PRESETS.items():
        X = U @ W.T
        GX, GY, GP = gradients(A, X, Y, P, terms)
        h = 1e-6
        num = []
        for Z, G in ((X, GX), (Y, GY), (P, GP)):
            E = np.zeros_like(Z)
            err = 0.0
            for idx in np.ndindex(Z.shape):
                E[idx] = h
                args_p = [X, Y, P]
                args_m = [X, Y, P]
                k = [X is Z, Y is Z, P is Z].index(True)
                args_p = [z + E if j == k else z for j, z in enumerate(args_p)]
                args_m = [z - E if j == k else z for j, z in enumerate(args_m)]
                # frozen targets: the unperturbed state
                fd = (loss(A, *args_p, terms, X, Y, P) - loss(A, *args_m, terms, X, Y, P)) / (2 * h)
                err = max(err, abs(fd - G[idx]))
                E[idx] = 0.0
            num.append(err)
        ok = max(num) < 1e-7
        fails += not ok
        print(f"{'ok  ' if ok else 'FAIL'} gradients of {name} vs finite differences: max err {max(num):.2e}")
        # chain rule: dL/dW by finite differences of L(U W^T) (no sg: a true gradient)
        if not any(t[4] for t in terms):
            dW, _, _ = vector_field(U, A, W, Y, P, terms, rates="uniform")
            E = np.zeros_like(W)
            err = 0.0
            for idx in np.ndindex(W.shape):
                E[idx] = h
                fd = (loss(A, U @ (W + E).T, Y, P, terms) - loss(A, U @ (W - E).T, Y, P, terms)) / (2 * h)
                err = max(err, abs(-fd - dW[idx]))
                E[idx] = 0.0
            ok = err < 1e-7
            fails += not ok
            print(f"{'ok  ' if ok else 'FAIL'} dW/dt = -dL/dW ({name}, uniform): max err {err:.2e}")
    # over-parameterized, degree, minimal: with U U^T = I exactly the samples move as in the minimal model
    Q, _ = np.linalg.qr(rng.normal(size=(D, N)))
    Uo = Q.T  # orthonormal rows
    dW, dY, _ = vector_field(Uo, A, W, Y, None, PRESETS["minimal"])
    X = Uo @ W.T
    M, a = A.sum(), A.sum(1)
    dX_minimal = -(M / a)[:, None] * (a[:, None] * X - A @ Y) / M
    err = np.abs(Uo @ dW.T - dX_minimal).max()
    ok = err < 1e-12
    fails += not ok
    print(f"{'ok  ' if ok else 'FAIL'} U U^T = I: x moves as in the minimal model: max err {err:.2e}")
    return fails


if __name__ == "__main__":
    sys.exit(1 if _selftest() else 0)
