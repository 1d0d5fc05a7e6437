#!/usr/bin/python3
"""PyTorch oracle for repcollapse's optimizers (MODEL.md section 6.1).

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

    optim_ref.py --trace PATH/optim_trace      (the ctest `optimizer_torch`)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", required=True)
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
    print(f"{checks - failures} of {checks} comparisons with torch.optim agree to 1e-12")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
