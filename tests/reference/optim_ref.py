#!/usr/bin/python3
"""PyTorch oracle for repcollapse's optimizers (docs/model.md section 6.1).

Runs torch.optim.SGD (plain, momentum, nesterov), torch.optim.Adam and
torch.optim.AdamW in float64 on a small smooth problem with two parameter
groups (their own lr = dt * eta and their own weight decay, one group
undecayed), and compares every step's parameters with the C optimizers driven
by tests/unit/optim_trace.c to 1e-12 relative. The C side receives the
rate-scaled gradient g = eta * dL/dtheta (the `uniform` scheme) and the
weight decay w of 6.1 (added to g); PyTorch's weight_decay is therefore w / eta
for SGD and Adam (L2 through the gradient), and w for AdamW (decoupled,
theta *= 1 - lr w). A run is also checkpointed half-way on the C side (saved,
freed, restored) and must still agree.

    optim_ref.py --trace PATH/optim_trace [--engine PATH/engine_trace]   (the ctest `optimizer_torch`)

With --engine, the same comparison runs through the one engine on a model:
tests/unit/engine_trace.c trains every optimizer on the table and linear
encoders (the `minimal` and `siam-sg` terms, `uniform` rates, eta_x/eta_W 0.8,
eta_y 1.2, eta_P 0.5 as three parameter groups) and prints the data, the
initial parameters and the trajectory; here the loss
    L = sum_terms (1/2M) sum_ic A_ic |H_s u - sg?(H_t v)|^2
is written in torch (sg = detach, x = U W^T for `linear`, P x as P @ x) and
torch.optim takes the same steps.
"""

import argparse
import subprocess
import sys

import numpy as np
import torch

KINDS = {"gd": 0, "momentum": 1, "nesterov": 2, "adam": 3, "adamw": 4}


def problem(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    q = a @ a.T / n + 0.5 * np.eye(n)
    b = rng.normal(size=n)
    theta0 = rng.normal(size=n)
    return q, b, theta0


def torch_run(kind, q, b, theta0, blocks, dt, steps, beta, betas, eps, w, cubic):
    """blocks: list of (offset, len, eta, decay); parameters outside every block stay put."""
    qt = torch.tensor(q, dtype=torch.float64)
    bt = torch.tensor(b, dtype=torch.float64)
    params = [torch.tensor(theta0[o:o + l], dtype=torch.float64, requires_grad=True) for (o, l, _, _) in blocks]
    rest = torch.tensor(theta0, dtype=torch.float64)
    groups = []
    for p, (o, l, eta, decay) in zip(params, blocks):
        wd = 0.0
        if decay:
            wd = w if kind == "adamw" else w / eta
        groups.append({"params": [p], "lr": dt * eta, "weight_decay": wd})
    if kind == "gd":
        opt = torch.optim.SGD(groups, lr=dt)
    elif kind in ("momentum", "nesterov"):
        opt = torch.optim.SGD(groups, lr=dt, momentum=beta, nesterov=(kind == "nesterov"))
    elif kind == "adam":
        opt = torch.optim.Adam(groups, lr=dt, betas=betas, eps=eps)
    else:
        opt = torch.optim.AdamW(groups, lr=dt, betas=betas, eps=eps)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        full = rest.clone()
        for p, (o, l, _, _) in zip(params, blocks):
            full = torch.cat([full[:o], p, full[o + l:]])
        loss = 0.5 * full @ qt @ full - bt @ full + 0.25 * cubic * (full ** 4).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            cur = rest.clone()
            for p, (o, l, _, _) in zip(params, blocks):
                cur[o:o + l] = p
        out.append(cur.numpy().copy())
    return np.array(out)


def c_run(trace, kind, q, b, theta0, blocks, dt, steps, beta, betas, eps, w, cubic, resume_at):
    n = len(theta0)
    head = [KINDS[kind], beta, betas[0], betas[1], eps, w, dt, steps, n, len(blocks), resume_at, cubic]
    lines = [" ".join(repr(float(v)) for v in head)]
    for (o, l, eta, decay) in blocks:
        lines.append(f"{o} {l} {eta!r} {int(decay)}")
    lines.append(" ".join(repr(float(v)) for v in q.ravel()))
    lines.append(" ".join(repr(float(v)) for v in b))
    lines.append(" ".join(repr(float(v)) for v in theta0))
    p = subprocess.run([trace], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"optim_trace failed: {p.stderr}")
    return np.array([[float(x) for x in line.split()] for line in p.stdout.strip().splitlines()])


TERMS = {
    # (source, source head, target, target head, stop-gradient)
    "minimal": [("x", False, "y", False, False)],
    "siam": [("x", True, "y", False, False), ("y", True, "x", False, False)],
    "siam-sg": [("x", True, "y", False, True), ("y", True, "x", False, True)],
}


def make_opt(kind, groups, dt, beta, betas=(0.9, 0.999), eps=1e-8):
    if kind == "gd":
        return torch.optim.SGD(groups, lr=dt)
    if kind in ("momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=dt, momentum=beta, nesterov=(kind == "nesterov"))
    if kind == "adam":
        return torch.optim.Adam(groups, lr=dt, betas=betas, eps=eps)
    return torch.optim.AdamW(groups, lr=dt, betas=betas, eps=eps)


def engine_case(engine, kind, encoder, terms, steps, dt, w):
    p = subprocess.run([engine, kind, encoder, terms, str(steps), repr(dt), repr(w), "uniform"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"engine_trace failed: {p.stderr}")
    import json
    j = json.loads(p.stdout)
    N, K, d, D = j["N"], j["K"], j["d"], j["D"]
    obs = j["observations"]
    M = sum(a for (_, _, a) in obs)
    ii = torch.tensor([o[0] for o in obs])
    cc = torch.tensor([o[1] for o in obs])
    aa = torch.tensor([o[2] for o in obs], dtype=torch.float64)
    theta0 = np.array(j["theta0"])
    U = torch.tensor(np.array(j["U"]).reshape(N, D)) if D else None
    params, groups = {}, []
    for b in j["blocks"]:
        t = torch.tensor(theta0[b["offset"]:b["offset"] + b["len"]], requires_grad=True)
        params[b["name"]] = t
        wd = w if kind == "adamw" else w / b["eta"]
        groups.append({"params": [t], "lr": dt * b["eta"], "weight_decay": wd})
    opt = make_opt(kind, groups, dt, 0.6)
    names = [b["name"] for b in j["blocks"]]

    def loss_fn():
        if encoder == "table":
            X = params["x"].view(N, d)
        else:
            X = U @ params["W"].view(d, D).T
        Y = params["y"].view(K, d)
        P = params["P"].view(d, d) if "P" in params else None
        L = 0.0
        for (src, hs, tgt, ht, sg) in TERMS[terms]:
            u = X[ii] if src == "x" else Y[cc]
            v = X[ii] if tgt == "x" else Y[cc]
            if hs:
                u = u @ P.T
            if ht:
                v = v @ P.T
            if sg:
                v = v.detach()
            L = L + (aa * ((u - v) ** 2).sum(dim=1)).sum() / (2 * M)
        return L

    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        out.append(np.concatenate([params[n].detach().numpy() for n in names]))
    ref = np.array(out)
    got = np.array(j["trajectory"])
    return np.max(np.abs(got - ref) / (1.0 + np.abs(ref)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", required=True)
    ap.add_argument("--engine", help="engine_trace: also compare training through the one engine")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    n = 7
    blocks = [(0, 3, 0.7, True), (3, 3, 1.3, False)]  # parameter 6 belongs to no block
    failures = 0
    checks = 0
    for kind in KINDS:
        for (beta, w, cubic, seed) in [(0.9, 0.0, 0.0, 1), (0.5, 0.05, 0.1, 2), (0.0, 0.2, 0.0, 3)]:
            if kind == "nesterov" and beta == 0.0:
                beta = 0.3  # torch refuses Nesterov without momentum
            betas, eps = ((0.9, 0.999), 1e-8) if seed != 3 else ((0.8, 0.99), 1e-6)
            q, b, theta0 = problem(n, seed)
            dt, steps = 0.05, 60
            ref = torch_run(kind, q, b, theta0, blocks, dt, steps, beta, betas, eps, w, cubic)
            for resume_at in (0, 23):
                got = c_run(args.trace, kind, q, b, theta0, blocks, dt, steps, beta, betas, eps, w, cubic, resume_at)
                err = np.max(np.abs(got - ref) / (1.0 + np.abs(ref)))
                checks += 1
                ok = got.shape == ref.shape and err <= 1e-12
                tag = "ok  " if ok else "FAIL"
                print(f"{tag} {kind:8s} beta={beta} w={w} cubic={cubic} betas={betas} eps={eps} "
                      f"resume_at={resume_at}: max rel diff {err:.3g}")
                if not ok:
                    failures += 1
    if args.engine:
        for kind in KINDS:
            for encoder in ("table", "linear"):
                for terms in ("minimal", "siam-sg"):
                    for w in (0.0, 0.03):
                        err = engine_case(args.engine, kind, encoder, terms, 40, 0.05, w)
                        checks += 1
                        ok = err <= 1e-12
                        failures += 0 if ok else 1
                        print(f"{'ok  ' if ok else 'FAIL'} engine {kind:8s} {encoder:6s} {terms:8s} w={w}: "
                              f"max rel diff {err:.3g}")
    print(f"{checks - failures} of {checks} comparisons with torch.optim agree to 1e-12")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
