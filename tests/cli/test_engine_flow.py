#!/usr/bin/python3
"""test_engine_flow.py: `repcollapse run` driving the one engine in flow
(--integrator rk45 with --weight-decay and --ema-rate) and EMA targets in
discrete time, from the CLI, each against something independent
(docs/model.md section 6.1):
  - weight decay on all of x and y on the minimal model: the flow's state
    (snapshots.h5) is e^{-wt} times the decay-free run's, D and the margin
    shrink by e^{-wt}, the loss and the spread by e^{-2wt}, and every
    scale-free metric (relative_label_distance, angular_label_distance,
    accuracy, accuracy_frustrated, label_effective_rank) equals the
    decay-free run's, to 1e-12 relative; decay on x alone breaks it;
  - the minimal model written with sg targets, x-sg(y)+y-sg(x), with EMA
    targets: its augmented linear system (x, y, x-bar, y-bar) written out
    here from the observations (NumPy), the flow's trajectory against
    expm(G t) z0 (Taylor series with scaling and squaring, here), the fitted decay of D against the slowest
    eigenvalue of G (numpy.linalg.eigvals), that eigenvalue complex-paired,
    and the 1/kappa approach to plain sg (|delta slow rate| <= 0.1/kappa up
    to kappa = 1000, plain sg's rate from `spectrum`);
  - discrete (--ema tau): the trajectory against powers of the one-step
    matrix, the fitted decay against its eigenvalues;
  - --ema 0 is plain sg bit for bit through the engine (with a minibatch, so
    both runs take the engine's path); flow with EMA kappa is never the plain
    kernel;
  - what flow does not take is refused before any work (another optimizer,
    --batch, --ema tau, --integrator exact with --weight-decay).
Usage: test_engine_flow.py --cli BIN"""
import argparse
import filecmp
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
CLI = ap.parse_args().cli
fails = []


def run(*args, ok=True):
    p = subprocess.run([CLI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ok and p.returncode != 0:
        sys.exit("FAIL: %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


def rows(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        head = f.readline().strip().split(",")
        # an empty cell is a null metric (undefined there): NaN here
        data = np.array([[float(v) if v.strip() else np.nan for v in line.split(",")] for line in f if line.strip()])
    return {h: data[:, k] for k, h in enumerate(head)}


def snaps(out):
    with h5py.File(os.path.join(out, "snapshots.h5"), "r") as f:
        return {k: f[k][()] for k in f.keys()}


def rel(a, b):
    """max relative difference, per entry against the entry's own size"""
    a, b = np.asarray(a, float), np.asarray(b, float)
    den = np.maximum(np.abs(b), 1e-300)
    return float(np.max(np.abs(a - b) / den))


def fit_rate(t, D, t_from):
    """least-squares slope of -ln D over t >= t_from"""
    m = (t >= t_from) & (D > 0)
    return -np.polyfit(t[m], np.log(D[m]), 1)[0]


def generator(s, kappa):
    """the augmented flow's generator, d = 1, z = [x (N), y (K), xbar, ybar] (degree rates, eta = 1):
    dx_i = -(1/a_i) sum_c A_ic (x_i - ybar_c), dy_c = -(1/a_c) sum_i A_ic (y_c - xbar_i),
    dxbar = kappa (x - xbar), dybar = kappa (y - ybar)"""
    N, K = s["samples"].shape[1], s["labels"].shape[1]
    A = np.zeros((N, K))
    for i, c in zip(s["observation_sample"], s["observation_label"]):
        A[i, c] += 1
    ai, ac = A.sum(1), A.sum(0)
    m = N + K
    G = np.zeros((2 * m, 2 * m))
    G[np.arange(N), np.arange(N)] = -1.0
    G[:N, m + N:] = A / ai[:, None]
    G[N + np.arange(K), N + np.arange(K)] = -1.0
    G[N:m, m:m + N] = A.T / ac[:, None]
    G[m:, :m] = kappa * np.eye(m)
    G[m:, m:] -= kappa * np.eye(m)
    return G, A


def expm(A):
    """exp(A): scaling and squaring of a 30-term Taylor series (|A| / 2^s <= 1/2)"""
    s = max(0, int(math.ceil(math.log2(max(np.linalg.norm(A, 1), 1e-300) / 0.5))))
    B = A / 2.0 ** s
    E, term = np.eye(len(A)), np.eye(len(A))
    for k in range(1, 30):
        term = term @ B / k
        E = E + term
    for _ in range(s):
        E = E @ E
    return E


def state(s, q):
    return np.concatenate([s["samples"][q].ravel(), s["labels"][q].ravel()])


with tempfile.TemporaryDirectory() as T:
    # ---------------- weight decay in flow ----------------
    w = 0.1
    C = ["--classes", "3", "--per-class", "20", "--frustration", "0.1", "--pattern", "ring", "--dim", "4",
         "--integrator", "rk45", "--t-end", "40", "--points", "30", "--rtol", "1e-13", "--atol", "1e-30",
         "--snapshots", "--quiet"]
    run("run", *C, "--out", os.path.join(T, "free"))
    run("run", *C, "--weight-decay", str(w), "--out", os.path.join(T, "decay"))
    run("run", *C, "--weight-decay", str(w), "--weight-decay-on", "x,y", "--out", os.path.join(T, "decay_xy"))
    run("run", *C, "--weight-decay", str(w), "--weight-decay-on", "x", "--out", os.path.join(T, "decay_x"))
    a, b = rows(os.path.join(T, "free")), rows(os.path.join(T, "decay"))
    t = a["t"]
    check(np.array_equal(t, b["t"]) and len(t) > 20, "weight decay: the same recorded times")
    sc = np.exp(-w * t)
    for name in ("relative_label_distance", "angular_label_distance", "accuracy", "accuracy_frustrated",
                 "label_effective_rank"):
        r = rel(b[name], a[name])
        check(r <= 1e-12, "weight decay on x and y: %s equals the decay-free run's (%.2e relative)" % (name, r))
    for name in ("nc1", "nc2_equinorm", "nc3", "nc4", "rankme"):  # 6.4's metrics are scale-free too
        both = np.isfinite(a[name]) & np.isfinite(b[name])
        if name == "nc1":  # where the within-class spread is resolved: nc1 ~ 1e-31 is |h - mu_c| at rounding level
            both &= a[name] > 1e-8
        r = rel(b[name][both], a[name][both]) if both.sum() > 5 else np.inf
        check(r <= 1e-10, "weight decay on x and y: %s equals the decay-free run's (%.2e relative, %d times)"
              % (name, r, both.sum()))
    for name, p in (("min_label_distance", 1), ("mean_label_distance", 1), ("margin", 1), ("loss", 2),
                    ("within_class_spread", 2)):
        r = rel(b[name], a[name] * sc ** p)
        check(r <= 1e-12, "weight decay: %s is e^{-%dwt} times the decay-free run's (%.2e)" % (name, p, r))
    sa, sb = snaps(os.path.join(T, "free")), snaps(os.path.join(T, "decay"))
    worst = 0.0
    for q in range(len(t)):
        za, zb = state(sa, q), state(sb, q)
        worst = max(worst, np.max(np.abs(zb - sc[q] * za)) / (sc[q] * np.max(np.abs(za))))
    check(worst <= 1e-12, "weight decay: the flow's state is e^{-wt} times the decay-free state (%.2e)" % worst)
    check(filecmp.cmp(os.path.join(T, "decay", "metrics.csv"), os.path.join(T, "decay_xy", "metrics.csv"),
                      shallow=False), "--weight-decay-on x,y is every trained parameter of the minimal model")
    cx = rows(os.path.join(T, "decay_x"))
    check(rel(cx["relative_label_distance"][-1], a["relative_label_distance"][-1]) > 1e-6,
          "weight decay on x alone changes the scale-free geometry")
    s = json.load(open(os.path.join(T, "decay", "summary.json")))
    check(s["training"]["weight_decay"] == w and s["training"]["weight_decay_on"][:2] == ["x", "y"],
          "summary.json records the weight decay of the flow")
    again = os.path.join(T, "decay_again")
    run("run", "--config", os.path.join(T, "decay", "summary.json"), "--quiet", "--out", again)
    check(filecmp.cmp(os.path.join(T, "decay", "metrics.csv"), os.path.join(again, "metrics.csv"), shallow=False),
          "the flow with decay reruns from its summary.json")

    # ---------------- EMA targets in flow: the augmented system ----------------
    data = ["--classes", "2", "--per-class", "100", "--frustrated", "0-1:8", "--dim", "1",
            "--terms", "x-sg(y)+y-sg(x)"]
    plain = json.loads(run("spectrum", "--classes", "2", "--per-class", "100", "--frustrated", "0-1:8").stdout)
    plain_slow = plain["slow_rate"]
    for kappa in (2.0, 10.0, 100.0, 1000.0):
        out = os.path.join(T, "ema%g" % kappa)
        run("run", *data, "--integrator", "rk45", "--ema-rate", repr(kappa), "--t-end", "300", "--points", "60",
            "--rtol", "1e-12", "--atol", "1e-30", "--snapshots", "--quiet", "--out", out)
        sn, mr = snaps(out), rows(out)
        G, A = generator(sn, kappa)
        ev = np.linalg.eigvals(G)
        live = ev[np.abs(ev) > 1e-9]
        slow_ev = live[np.argmax(live.real)]  # the slowest decaying mode that is not conserved
        slow = -slow_ev.real
        D = mr["min_label_distance"]
        fit = fit_rate(mr["t"], D, 150.0)
        check(abs(fit - slow) <= 1e-5 * slow,
              "EMA kappa %g: fitted decay of D %.9f against the slowest eigenvalue %.9f" % (kappa, fit, slow))
        check(abs(slow - plain_slow) <= 0.1 / kappa and abs(fit - plain_slow) <= 0.1 / kappa,
              "EMA kappa %g: |slow rate - plain sg's| = %.3g <= 0.1/kappa" % (kappa, abs(fit - plain_slow)))
        if kappa == 2.0:
            check(np.any(np.abs(live.imag) > 1e-6), "EMA kappa 2: the augmented system has complex eigenvalues")
        s = json.load(open(os.path.join(out, "summary.json")))
        check(s["training"]["ema_rate"] == kappa and "ema_tau" not in s["training"],
              "EMA kappa %g: summary.json records the rate (no tau in flow)" % kappa)

    # the whole trajectory against expm(G t) z0, on a smaller system (the large one's G is defective:
    # identical samples share eigenvalues, so expm at every recorded time is the reference)
    for kappa in (2.0, 100.0):
        out = os.path.join(T, "ema_small%g" % kappa)
        run("run", "--classes", "3", "--per-class", "5", "--frustration", "0.2", "--pattern", "ring", "--dim", "2",
            "--terms", "x-sg(y)+y-sg(x)", "--integrator", "rk45", "--ema-rate", repr(kappa), "--t-end", "50",
            "--points", "40", "--rtol", "1e-12", "--atol", "1e-30", "--snapshots", "--quiet", "--out", out)
        sn = snaps(out)
        d = sn["samples"].shape[2]
        G1, _ = generator({**sn, "samples": sn["samples"][:, :, :1], "labels": sn["labels"][:, :, :1]}, kappa)
        worst = 0.0
        for q, tq in enumerate(sn["t"]):
            E = expm(G1 * tq)
            for j in range(d):  # the coordinates evolve independently under the same generator
                z0 = np.concatenate([sn["samples"][0, :, j], sn["labels"][0, :, j]])
                zq = np.concatenate([sn["samples"][q, :, j], sn["labels"][q, :, j]])
                ref = (E @ np.concatenate([z0, z0]))[:len(z0)]  # theta_bar(0) = theta(0)
                worst = max(worst, np.max(np.abs(zq - ref)) / np.max(np.abs(z0)))
        check(worst <= 1e-9, "EMA kappa %g: the flow's trajectory equals expm(G t) z0 (%.2e)" % (kappa, worst))

    # ---------------- EMA targets in discrete time: the one-step matrix ----------------
    dt, tau = 0.1, 0.8
    alpha = 1 - tau
    out = os.path.join(T, "ema_gd")
    run("run", "--classes", "2", "--per-class", "6", "--frustrated", "0-1:2", "--dim", "1",
        "--terms", "x-sg(y)+y-sg(x)", "--integrator", "gd", "--dt", str(dt), "--steps", "2000", "--points", "50",
        "--ema", str(tau), "--snapshots", "--quiet", "--out", out)
    sn, mr = snaps(out), rows(out)
    G, A = generator(sn, 0.0)
    m = G.shape[0] // 2
    S = np.zeros_like(G)
    online = np.eye(m, 2 * m) + dt * G[:m]          # z' = z + dt (A z + B bar)
    S[:m] = online
    S[m:] = alpha * online
    S[m:, m:] += (1 - alpha) * np.eye(m)             # bar' = bar + alpha (z' - bar)
    z0 = state(sn, 0)
    Z0 = np.concatenate([z0, z0])
    worst = 0.0
    for q, k in enumerate(sn["step"]):
        ref = (np.linalg.matrix_power(S, int(k)) @ Z0)[:m]
        worst = max(worst, np.max(np.abs(state(sn, q) - ref)) / np.max(np.abs(z0)))
    check(worst <= 1e-12, "--ema %g: the trajectory equals powers of the one-step matrix (%.2e)" % (tau, worst))
    mu = np.linalg.eigvals(S)
    inside = np.abs(mu)[np.abs(mu) < 1 - 1e-9]
    pred = -math.log(inside.max()) / dt
    fit = fit_rate(mr["t"], mr["min_label_distance"], 40.0)
    check(abs(fit - pred) <= 1e-6 * pred, "--ema %g: fitted decay %.9f against the one-step matrix's %.9f"
          % (tau, fit, pred))
    check(np.any(np.abs(mu.imag) > 1e-9), "--ema %g: the one-step matrix has complex eigenvalues" % tau)

    # ---------------- --ema 0 through the engine ----------------
    G2 = ["--classes", "2", "--per-class", "30", "--frustrated", "0-1:3", "--dim", "4", "--model", "siam-sg",
          "--integrator", "gd", "--dt", "0.05", "--steps", "600", "--points", "20", "--batch", "7", "--quiet"]
    run("run", *G2, "--out", os.path.join(T, "b7"))
    run("run", *G2, "--ema", "0", "--out", os.path.join(T, "b7ema0"))
    check(filecmp.cmp(os.path.join(T, "b7", "metrics.csv"), os.path.join(T, "b7ema0", "metrics.csv"), shallow=False),
          "--ema 0 is plain sg bit for bit through the engine (--batch 7)")
    run("run", *G2, "--ema", "0.5", "--out", os.path.join(T, "b7ema5"))
    check(not filecmp.cmp(os.path.join(T, "b7", "metrics.csv"), os.path.join(T, "b7ema5", "metrics.csv"),
                          shallow=False), "--ema 0.5 is not plain sg")

    # ---------------- refused before any work ----------------
    D0 = ["--classes", "2", "--per-class", "30", "--frustrated", "0-1:3", "--dim", "4", "--quiet"]
    for args, pat in (
        (["--integrator", "rk45", "--t-end", "10", "--optimizer", "adam"], "applies to the discrete integrator"),
        (["--integrator", "rk45", "--t-end", "10", "--weight-decay", "0.1", "--batch", "5"],
         "--batch applies to the discrete integrator"),
        (["--integrator", "rk45", "--t-end", "10", "--model", "siam-sg", "--ema", "0.5"], "in flow give --ema-rate"),
        (["--integrator", "exact", "--t-end", "10", "--weight-decay", "0.1"], "or rk45 (flow"),
        (["--integrator", "rk45", "--t-end", "10", "--ema-rate", "2"], "need a model with stop-gradient targets"),
    ):
        out = os.path.join(T, "refused")
        p = run("run", *D0, *args, "--out", out, ok=False)
        check(p.returncode == 2 and pat in p.stderr and len(p.stderr.splitlines()) == 1 and not os.path.exists(out),
              "refused: %s [%s]" % (" ".join(args), p.stderr.strip()))
    # a non-finite flow stops, naming the parameter, and leaves no summary.json
    out = os.path.join(T, "nan")
    p = run("run", *D0, "--integrator", "rk45", "--t-end", "10", "--weight-decay", "1e308", "--out", out, ok=False)
    check(p.returncode != 0 and len(p.stderr.splitlines()) == 1 and "parameter" in p.stderr
          and not os.path.exists(os.path.join(out, "summary.json")),
          "a non-finite flow stops with the parameter named [%s]" % p.stderr.strip())
    out = os.path.join(T, "maxsteps")
    p = run("run", *D0, "--integrator", "rk45", "--t-end", "10", "--weight-decay", "0.1", "--max-steps", "5",
            "--out", out, ok=False)
    check(p.returncode != 0 and "--max-steps bound (5 steps)" in p.stderr, "--max-steps bounds the flow [%s]"
          % p.stderr.strip())

print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
