#!/usr/bin/python3
"""PyTorch autograd oracle for the objectives of docs/model.md section 6.2.

For every new term kind (cosine, uniformity(y), uniformity(x), InfoNCE), with
and without a head, with stop-gradient, with zero-norm vectors, on a
minibatch, on the table and linear encoders and under --sphere, the C engine
(tests/unit/objective_trace.c) evaluates the loss, the rate-scaled field
F = -eta * dL/dtheta (tangent to the sphere at the label and table rows under
--sphere; an encoder's outputs normalised with the gradient through the
normalisation), the zero-norm count and one gd step with the sphere
projection. Here the same loss is written in torch float64, written from the
definitions of 6.2 and not from the C code:
    squared     w/(2M) sum_ic a_ic |H_s u - sg?(H_t v)|^2
    cos         w/M    sum_ic a_ic (1 - cos(H_s u, sg?(H_t v)))   (0 where a norm is 0)
    uniformity  w log((1/(n(n-1))) sum_{a != b} exp(-t |z^_a - z^_b|^2))   over nonzero rows
    infonce     w/M    sum_ic a_ic [|x_i - y_c|^2/tau + log sum_b exp(-|x_i - y_b|^2/tau)]
(sg = detach), autograd gives the gradient, and everything is compared to
1e-10 relative.

    objectives_ref.py --trace PATH/objective_trace      (the ctest `objectives_torch`)
"""

import argparse
import json
import re
import subprocess
import sys

import torch

torch.set_default_dtype(torch.float64)


def parse_terms(spec):
    presets = {
        "simsiam": "cos(Px,sg(y))+cos(Py,sg(x))",
        "proj": "Px-Py",
        "proj-sg": "Px-sg(Py)+Py-sg(Px)",
        "minimal": "x-y",
        "siam-sg": "Px-sg(y)+Py-sg(x)",
    }
    spec = presets.get(spec, spec)
    terms = []
    for t in spec.split("+"):
        m = re.fullmatch(r"(?:([0-9.]+)\*)?(.*)", t)
        w = float(m.group(1)) if m.group(1) else 1.0
        body = m.group(2)
        if body.startswith("uniformity("):
            terms.append(("uniformity", w, body[11]))
            continue
        if body == "infonce(x,y)":
            terms.append(("infonce", w))
            continue
        kind = "sq"
        if body.startswith("cos("):
            kind, body = "cos", body[4:-1].replace(",", "-", 1)
        src, tgt = body.split("-", 1)
        sg = tgt.startswith("sg(")
        if sg:
            tgt = tgt[3:-1]
        terms.append((kind, w, src, tgt, sg))
    return terms


def loss_of(terms, X, Y, P, rows, labs, a, M, t, tau):
    L = 0.0
    for term in terms:
        if term[0] == "uniformity":
            _, w, which = term
            if which == "y":
                Z = Y
            else:
                present = torch.zeros(X.shape[0], dtype=torch.bool)
                present[rows[a > 0]] = True
                Z = X[present]
            nz = Z.norm(dim=1)
            Z = Z[nz > 0]
            Zh = Z / Z.norm(dim=1, keepdim=True)
            n = Zh.shape[0]
            if n < 2:
                continue
            D2 = ((Zh[:, None, :] - Zh[None, :, :]) ** 2).sum(-1)
            off = ~torch.eye(n, dtype=torch.bool)
            L = L + w * torch.log(torch.exp(-t * D2[off]).sum() / (n * (n - 1)))
            continue
        if term[0] == "infonce":
            w = term[1]
            D2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)  # N x K
            lse = torch.logsumexp(-D2 / tau, dim=1)
            L = L + w / M * (a * (D2[rows, labs] / tau + lse[rows])).sum()
            continue
        kind, w, src, tgt, sg = term

        def side(b, online):
            Xs, Ys, Ps = (X, Y, P) if online else (X.detach(), Y.detach(), P.detach() if P is not None else None)
            v = Xs[rows] if b[-1] == "x" else Ys[labs]
            return v @ Ps.T if b[0] == "P" else v

        u, v = side(src, True), side(tgt, not sg)
        if kind == "sq":
            L = L + w / (2 * M) * (a[:, None] * (u - v) ** 2).sum()
        else:
            nu, nv = u.norm(dim=1), v.norm(dim=1)
            ok = (nu > 0) & (nv > 0)
            cs = (u[ok] * v[ok]).sum(1) / (nu[ok] * nv[ok])
            L = L + w / M * (a[ok] * (1 - cs)).sum()
    return L


def check(trace, spec, encoder, sphere, zero, batch, t, tau):
    out = subprocess.run([trace, spec, encoder, str(sphere), str(zero), str(batch), repr(t), repr(tau)],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    N, K, d, D, M = j["N"], j["K"], j["d"], j["D"], j["M"]
    rp, labs = j["row_ptr"], torch.tensor(j["labels"])
    counts = torch.tensor(j["counts"])
    rows = torch.tensor([i for i in range(N) for _ in range(rp[i], rp[i + 1])])
    if batch:  # observation o lies in CSR entry e when start[e] <= o < start[e+1]
        start = torch.cumsum(torch.cat([torch.zeros(1), counts]), 0)
        a = torch.zeros(len(counts))
        for o in j["batch"]:
            e = int(torch.searchsorted(start, torch.tensor(float(o)), right=True)) - 1
            a[e] += j["batch_weight"]
    else:
        a = counts
    terms = parse_terms(spec)
    head = any(tm[0] in ("sq", "cos") and (tm[2][0] == "P" or tm[3][0] == "P") for tm in terms)
    theta = torch.tensor(j["theta"], requires_grad=True)
    n_enc = j["n_enc"]
    enc = theta[:n_enc]
    if encoder == "table":
        X = enc.reshape(N, d)
    else:
        U = torch.tensor(j["U"]).reshape(N, D)
        X = U @ enc.reshape(d, D).T
        if sphere:
            X = X / X.norm(dim=1, keepdim=True)
    Y = theta[n_enc:n_enc + K * d].reshape(K, d)
    P = theta[n_enc + K * d:].reshape(d, d) if head else None
    L = loss_of(terms, X, Y, P, rows, labs, a, M, t, tau)
    (g,) = torch.autograd.grad(L, theta)
    eta = torch.cat([torch.full((n_enc,), 0.8), torch.full((K * d,), 1.2), torch.full((d * d if head else 0,), 0.5)])
    F = -eta * g
    th = theta.detach().clone()
    if sphere:  # tangent projection of the label rows and the table's rows
        blocks = [(n_enc, K)] + ([(0, N)] if encoder == "table" else [])
        for off, r in blocks:
            Z, G = th[off:off + r * d].reshape(r, d), F[off:off + r * d].reshape(r, d)
            zz = (Z * Z).sum(1, keepdim=True)
            G = torch.where(zz > 0, G - (G * Z).sum(1, keepdim=True) / torch.where(zz > 0, zz, 1) * Z, G)
            F[off:off + r * d] = G.reshape(-1)
    th1 = th + 0.1 * F
    if sphere:
        for off, r in [(n_enc, K)] + ([(0, N)] if encoder == "table" else []):
            Z = th1[off:off + r * d].reshape(r, d)
            nz = Z.norm(dim=1, keepdim=True)
            th1[off:off + r * d] = torch.where(nz > 0, Z / torch.where(nz > 0, nz, 1), Z).reshape(-1)
    name = f"{spec} {encoder} sphere={sphere} zero={zero} batch={batch} t={t} tau={tau}"
    errs = []

    def cmp(what, c, ref):
        c = torch.tensor(c) if not torch.is_tensor(c) else c
        ref = ref.detach() if torch.is_tensor(ref) else torch.tensor(ref)
        e = float((c - ref).abs().max() / (1 + ref.abs().max()))
        if not e <= 1e-10:
            errs.append(f"{what}: relative error {e:.3g}")

    cmp("loss", j["loss"], L)
    cmp("field", j["F"], F)
    cmp("gd step", j["theta1"], th1)
    if not float(F.abs().max()) > 1e-6:
        errs.append("the field is zero: nothing checked")
    if zero:
        want = 0.0
        for tm in terms:
            if tm[0] == "cos":
                # zero rows among each side's vectors: sample 2 and label 1 (P invertible here)
                want += 1 + 1
            elif tm[0] == "uniformity":
                want += 1
        if abs(j["zero_norm"] - want) > 0:
            errs.append(f"zero_norm {j['zero_norm']} (expected {want})")
    print(("ok   " if not errs else "FAIL ") + name + ("" if not errs else ": " + "; ".join(errs)))
    return not errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace", required=True)
    args = ap.parse_args()
    cases = []
    kinds = ["simsiam", "cos(x,y)", "cos(Px,y)+0.5*cos(y,sg(Px))", "cos(x,Py)", "uniformity(y)", "x-y+uniformity(y)",
             "x-y+0.3*uniformity(x)", "infonce(x,y)", "0.5*x-sg(y)+2*infonce(x,y)", "proj", "proj-sg",
             "cos(Px,sg(Py))+uniformity(y)"]
    for spec in kinds:
        for encoder in ("table", "linear"):
            for sphere in (0, 1):
                cases.append((spec, encoder, sphere, 0, 0, 2.0, 0.1))
        cases.append((spec, "table", 0, 0, 1, 1.5, 0.3))  # a minibatch; other t and tau
        if "cos" in spec or "uniformity" in spec:
            cases.append((spec, "table", 0, 1, 0, 2.0, 0.1))  # zero-norm vectors
    ok = all([check(args.trace, *c) for c in cases])
    print(f"{len(cases)} cases: {'all agree' if ok else 'DISAGREEMENT'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
