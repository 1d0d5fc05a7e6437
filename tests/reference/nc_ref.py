"""NumPy reference of the neural-collapse metrics and rankme (docs/model.md
section 6.4), written from the definitions, independently of the C code: the
pseudo-inverse of Sigma_B through numpy.linalg.pinv of M~ (rcond 1e-10 on its
singular values), rankme from numpy.linalg.svd of the N x d matrix, nearest
class means and labels by full distance matrices.

    nc_metrics(clean_label, H, Y, trace_b0, trace0) -> (values, diag)

clean_label: N ints (-1 for a frustrated sample), H: N x d sample-side
embeddings (x_i, or P x_i with a head), Y: K x d labels; trace_b0 and trace0
the references of t = 0 (trace_b(...) and the centred label Gram trace). A
null metric is None. diag: the trace ratio Tr Sigma_B / Tr Sigma_B(0), the
closest nearest-label and nearest-mean decisions (for tie rules), and the
scale sqrt(Tr Sigma_B) against which state errors are judged.
"""
import math

import numpy as np

NC_NAMES = ["nc1", "nc2_equinorm", "nc2_equiangular", "nc2_cos_std", "nc3", "nc4", "rankme"]


def class_means(clean_label, H, K):
    clean_label = np.asarray(clean_label)
    counts = np.array([(clean_label == c).sum() for c in range(K)])
    if (counts == 0).any():
        return None, counts
    mu = np.stack([H[clean_label == c].mean(axis=0) for c in range(K)])
    return mu, counts


def trace_b(clean_label, H, K):
    """Tr Sigma_B of a state (0 when a class has no clean sample or K < 2)."""
    if K < 2:
        return 0.0
    mu, counts = class_means(clean_label, H, K)
    if mu is None:
        return 0.0
    muG = H[np.asarray(clean_label) >= 0].mean(axis=0)
    Mt = mu - muG
    return float(np.trace(Mt.T @ Mt) / K)


def nearest_unique(H, C):
    """index of the nearest row of C for each row of H, and the gap to the second nearest"""
    D = np.sqrt(((H[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(D, axis=1, kind="stable")
    n = np.arange(H.shape[0])
    gap = D[n, order[:, 1]] - D[n, order[:, 0]] if C.shape[0] > 1 else np.full(H.shape[0], np.inf)
    return order[:, 0], gap


def rankme(H):
    if H.shape[0] == 0:
        return None
    s = np.linalg.svd(H, compute_uv=False)
    if not s.sum() > 0:
        return None
    p = s / s.sum() + 1e-7
    return float(np.exp(-(p * np.log(p)).sum()))


def nc_metrics(clean_label, H, Y, trace_b0, trace0):
    clean_label = np.asarray(clean_label)
    H = np.asarray(H, dtype=float)
    Y = np.asarray(Y, dtype=float)
    K = Y.shape[0]
    out = {m: None for m in NC_NAMES}
    # scales an error in the embeddings is judged against, per metric (None: undefined)
    diag = {"trace_b_ratio": None, "gap_label": math.inf, "gap_mean": math.inf,
            "scale_nc1": None, "scale_nc2": None, "scale_nc3": None}
    out["rankme"] = rankme(H)
    if K < 2:
        return out, diag
    mu, counts = class_means(clean_label, H, K)
    if mu is None:
        return out, diag
    clean = clean_label >= 0
    Hc, lc = H[clean], clean_label[clean]
    n = Hc.shape[0]
    muG = Hc.mean(axis=0)
    Mt = mu - muG
    SB = Mt.T @ Mt / K
    trB = float(np.trace(SB))
    diag["trace_b_ratio"] = trB / trace_b0 if trace_b0 > 0 else math.inf
    sv = np.linalg.svd(Mt, compute_uv=False)
    kept = sv[sv > 1e-10 * sv[0]] if sv[0] > 0 else sv[:0]
    # nc1 weighs each kept direction by 1 / s_k^2: its smallest kept one; nc2 the class means' norms; nc3 |M~|_F
    diag["scale_nc1"] = float(kept.min()) / math.sqrt(K) if kept.size else None
    diag["scale_nc2"] = float(np.linalg.norm(Mt, axis=1).min())
    diag["scale_nc3"] = math.sqrt(trB * K)
    if not trB > 1e-24 * trace_b0:
        return out, diag
    R = Hc - mu[lc]
    SW = R.T @ R / n
    Mp = np.linalg.pinv(Mt, rcond=1e-10)  # d x K: V S^-1 U^T on the kept singular values
    SB_pinv = K * (Mp @ Mp.T)              # (M~^T M~ / K)^+ on the span of M~
    out["nc1"] = float(np.trace(SW @ SB_pinv) / K)
    norms = np.linalg.norm(Mt, axis=1)
    out["nc2_equinorm"] = float(norms.std() / norms.mean())
    if K >= 3 and norms.min() > 1e-12 * np.linalg.norm(Mt):
        Mn = Mt / norms[:, None]
        cos = (Mn @ Mn.T)[np.triu_indices(K, 1)]
        out["nc2_equiangular"] = float(np.abs(cos + 1.0 / (K - 1)).mean())
        out["nc2_cos_std"] = float(cos.std())
    Yt = Y - Y.mean(axis=0)
    y2 = float((Yt ** 2).sum())
    if y2 >= 1e-24 * trace0 and y2 > 0:
        out["nc3"] = float(((Yt / np.linalg.norm(Yt) - Mt / np.linalg.norm(Mt)) ** 2).sum())
    near_label, gap_l = nearest_unique(Hc, Y)
    near_mean, gap_m = nearest_unique(Hc, mu)
    diag["gap_label"] = float(gap_l.min())
    diag["gap_mean"] = float(gap_m.min())
    agree = (near_label == near_mean) & (gap_l > 0) & (gap_m > 0)
    out["nc4"] = float((~agree).sum() / agree.size)
    return out, diag


def close_enough(name, got, want, q, rtol):
    """Whether a recorded value agrees with the reference of a state whose
    embeddings are known to q times sqrt(Tr Sigma_B) (for rankme: q of their
    own size): the tolerances follow how each metric responds to such errors."""
    if got is None or want is None:
        return got is None and want is None
    if not math.isfinite(got):
        return False
    if name == "nc1":  # Tr(Sigma_W Sigma_B^+): residual errors q relative to sqrt(Tr Sigma_B)
        return abs(got - want) <= 10 * (2 * math.sqrt(abs(want)) * q + q * q) + rtol * abs(want) + 1e-300
    if name in ("nc2_equinorm", "nc2_equiangular", "nc2_cos_std", "nc3"):
        return abs(got - want) <= 10 * q + rtol * abs(want) + 1e-13
    if name == "nc4":
        return got == want
    if name == "rankme":  # singular values from the Gram matrix: ~1e-5 of rankme when fully collapsed
        return abs(got - want) <= (rtol + 2e-5 + 10 * q) * abs(want)
    raise KeyError(name)


def selftest():
    rng = np.random.default_rng(3)
    K, d, n = 4, 6, 5
    # a regular simplex of class means, collapsed classes, labels equal to the means
    E = np.eye(K) - 1.0 / K
    mu = np.hstack([E, np.zeros((K, d - K))]) * 2.0 + 0.3
    lab = np.repeat(np.arange(K), n)
    H = mu[lab]
    v, _ = nc_metrics(lab, H, mu, trace_b(lab, H, K), 1.0)
    assert abs(v["nc1"]) < 1e-28 and abs(v["nc2_equinorm"]) < 1e-14 and abs(v["nc2_equiangular"]) < 1e-14, v
    assert abs(v["nc2_cos_std"]) < 1e-14 and abs(v["nc3"]) < 1e-28 and v["nc4"] == 0.0, v
    # nc1 by hand: two classes on a line, means at -1 and 1, samples +-s around them
    s = 0.3
    H2 = np.array([[-1 - s], [-1 + s], [1 - s], [1 + s]])
    l2 = np.array([0, 0, 1, 1])
    v2, _ = nc_metrics(l2, H2, np.array([[-1.0], [1.0]]), 1.0, 1.0)
    assert abs(v2["nc1"] - s * s / 2) < 1e-15, v2  # Sigma_W = s^2, Sigma_B = 1: Tr / K = s^2 / 2
    assert v2["nc2_equiangular"] is None and v2["nc2_cos_std"] is None
    # rankme of an orthogonal frame: every singular value equal -> about d
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    r = rankme(Q)
    assert abs(r - d) < 1e-4, r
    print("nc_ref selftest: ok")


if __name__ == "__main__":
    selftest()
