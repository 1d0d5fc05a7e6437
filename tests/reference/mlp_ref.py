#!/usr/bin/python3
"""PyTorch autograd oracle for the `mlp` encoder (docs/model.md sections 6 and 6.3).

tests/unit/mlp_trace.c evaluates the engine's field F(theta) once with the mlp
encoder x_i = W2 phi(W1 u_i + b1) + b2 on a small data set with uneven
observation weights, and the encoder's own forward X and backward g for a fixed
G. Here everything is redone in float64 torch:
  - X and g: torch's forward, and autograd of sum(X * G) (g = dX/dtheta^T G);
  - the field: L = sum_terms (1/2M) sum_ic A_ic |H_s u - sg?(H_t v)|^2 written in
    torch, dL/dX and dL/dY by autograd; under `degree` row i of dL/dX is
    multiplied by M / a_i and row c of dL/dY by M / b_c (the engine's rate
    scheme, before back-propagation), under `uniform` by 1; then
    F_enc = -eta_W (dX/dtheta_enc)^T (scaled dL/dX) by a second autograd pass,
    F_y = -eta_y (scaled dL/dY), F_P = -eta_P dL/dP.
Agreement to 1e-12 relative, for relu and tanh, degree and uniform, the
minimal and siam-sg terms.

    mlp_ref.py --trace PATH/mlp_trace        (the ctest `mlp_torch`)
"""

import argparse
import json
import subprocess
import sys

import numpy as np
import torch

TERMS = {
    # (source, source head, target, target head, stop-gradient)
    "minimal": [("x", False, "y", False, False)],
    "siam-sg": [("x", True, "y", False, True), ("y", True, "x", False, True)],
}


def case(trace, act, rates, terms):
    p = subprocess.run([trace, act, rates, terms], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"mlp_trace failed: {p.stderr}")
    j = json.loads(p.stdout)
    N, K, d, D, h = j["N"], j["K"], j["d"], j["D"], j["h"]
    obs = j["observations"]
    ii = torch.tensor([o[0] for o in obs])
    cc = torch.tensor([o[1] for o in obs])
    aa = torch.tensor([o[2] for o in obs], dtype=torch.float64)
    M = aa.sum()
    a_i = torch.zeros(N, dtype=torch.float64).index_add_(0, ii, aa)
    b_c = torch.zeros(K, dtype=torch.float64).index_add_(0, cc, aa)
    theta = np.array(j["theta"])
    U = torch.tensor(np.array(j["U"]).reshape(N, D))
    P_ = {b["name"]: torch.tensor(theta[b["offset"]:b["offset"] + b["len"]], requires_grad=True) for b in j["blocks"]}
    eta = {b["name"]: b["eta"] for b in j["blocks"]}
    phi = torch.relu if act == "relu" else torch.tanh
    enc = ["W1", "b1", "W2", "b2"]

    def forward():
        Z = U @ P_["W1"].view(h, D).T + P_["b1"]
        return phi(Z) @ P_["W2"].view(d, h).T + P_["b2"]

    # the encoder alone
    X = forward()
    G = torch.tensor(np.array(j["G"]).reshape(N, d))
    g = torch.autograd.grad((X * G).sum(), [P_[n] for n in enc])
    err_x = np.max(np.abs(X.detach().numpy().ravel() - np.array(j["X"])))
    g_ref = np.concatenate([t.numpy() for t in g])
    err_g = np.max(np.abs(np.array(j["g"]) - g_ref) / (1.0 + np.abs(g_ref)))

    # the engine's field
    X = forward()
    Xl = X.detach().requires_grad_(True)  # dL/dX, then back-propagated by hand-scaled rows
    Y = P_["y"].view(K, d)
    P = P_["P"].view(d, d) if "P" in P_ else None
    L = 0.0
    for (src, hs, tgt, ht, sg) in TERMS[terms]:
        u = Xl[ii] if src == "x" else Y[cc]
        v = Xl[ii] if tgt == "x" else Y[cc]
        if hs:
            u = u @ P.T
        if ht:
            v = v @ P.T
        if sg:
            v = v.detach()
        L = L + (aa * ((u - v) ** 2).sum(dim=1)).sum() / (2 * M)
    inputs = [Xl, P_["y"]] + ([P_["P"]] if P is not None else [])
    grads = torch.autograd.grad(L, inputs)
    gX, gy = grads[0], grads[1].view(K, d)
    sx = M / a_i if rates == "degree" else torch.ones(N, dtype=torch.float64)
    sy = M / b_c if rates == "degree" else torch.ones(K, dtype=torch.float64)
    genc = torch.autograd.grad(X, [P_[n] for n in enc], grad_outputs=gX * sx[:, None])
    F = [-eta[n] * t for n, t in zip(enc, genc)]
    F.append(-eta["y"] * (gy * sy[:, None]).reshape(-1))
    if P is not None:
        F.append(-eta["P"] * grads[2])
    F_ref = np.concatenate([t.detach().numpy() for t in F])
    F_got = np.array(j["F"])
    err_F = np.max(np.abs(F_got - F_ref) / (1.0 + np.abs(F_ref)))
    err_L = abs(j["loss"] - L.item()) / (1.0 + abs(L.item()))
    names_ok = [b["name"] for b in j["blocks"]][:4] == enc
    return max(err_x, err_g, err_F, err_L), names_ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace", required=True)
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    bad = 0
    for act in ("relu", "tanh"):
        for rates in ("degree", "uniform"):
            for terms in ("minimal", "siam-sg"):
                err, names_ok = case(args.trace, act, rates, terms)
                ok = err < 1e-12 and names_ok
                bad += not ok
                print(f"{'ok  ' if ok else 'FAIL'} mlp {act} {rates:7s} {terms:8s}: max rel err {err:.2e}"
                      f"{'' if names_ok else ' (block names wrong)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
