#!/usr/bin/python3
"""test_encoder_optim.py: every optimizer on the linear encoder from the CLI
(`repcollapse run --encoder linear --inputs teacher --optimizer ...`, the one
run pipeline) against torch.optim in float64 (docs/model.md section 6.1):
`uniform` rates, so the rate-scaled gradient is eta times the plain gradient
of the mean loss and each optimizer is its PyTorch namesake with lr = dt eta
per parameter group (W: eta_W, y: eta_y, P: eta_P); weight decay w is
PyTorch's weight_decay w / eta (SGD, Adam: through the gradient) or w
(AdamW: decoupled); EMA targets are slow copies theta_bar <- theta_bar +
(1 - tau)(theta - theta_bar) after each step, read by the stop-gradient
branches (detach). The run's snapshots.h5 holds W, y, P at every step and the
inputs and observations, from which the torch side rebuilds the loss
    L = sum_terms (1/2M) sum_ic A_ic |H_s u - sg?(H_t v)|^2,  x = W u;
every recorded state must agree to 1e-12 relative. Also: `--task
teacher-student` is the same run as `--encoder linear --inputs teacher`, byte
for byte; --batch M is full-batch gd bit for bit; summary.json records the
training settings and reruns the run through --config.

    test_encoder_optim.py --cli BIN
"""
import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from optim_ref import TERMS, make_opt  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
CLI = ap.parse_args().cli
fails = []
ETA = {"W": 0.8, "y": 1.2, "P": 0.5}
DT, STEPS = 0.1, 12
TIMES = ",".join("%g" % (k * DT) for k in range(STEPS + 1))
BASE = ["run", "--encoder", "linear", "--inputs", "teacher", "--samples", "12", "--input-dim", "30", "--classes",
        "3", "--dim", "4", "--frustration", "0.2", "--rates", "uniform", "--eta-w", "0.8", "--eta-y", "1.2",
        "--eta-head", "0.5", "--head-init", "gaussian", "--integrator", "gd", "--dt", repr(DT), "--steps",
        str(STEPS), "--times", TIMES, "--test-samples", "20", "--seed", "3", "--quiet", "--snapshots"]


def run(*args, ok=True):
    p = subprocess.run([CLI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ok and p.returncode != 0:
        sys.exit("FAIL: %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


def torch_trajectory(h, kind, terms, w, tau, beta=0.6):
    U = torch.tensor(h["inputs"][:])
    obs = h["observations"][:]
    aa = torch.tensor(h["observation_counts"][:])
    ii = torch.tensor(obs[:, 0])
    cc = torch.tensor(obs[:, 1])
    M = float(aa.sum())
    head = "head" in h
    names = ["W", "y"] + (["P"] if head else [])
    src = {"W": h["W"], "y": h["labels"], "P": h["head"] if head else None}
    params = {n: torch.tensor(src[n][0], requires_grad=True) for n in names}
    bar = {n: params[n].detach().clone() for n in names} if tau is not None else None
    groups = [{"params": [params[n]], "lr": DT * ETA[n], "weight_decay": (w if kind == "adamw" else w / ETA[n])}
              for n in names]
    opt = make_opt(kind, groups, DT, beta)

    def loss_fn():
        X = U @ params["W"].T
        Y = params["y"]
        P = params["P"] if head else None
        if bar is not None:
            Xb, Yb, Pb = U @ bar["W"].T, bar["y"], bar.get("P")
        L = 0.0
        for (s, hs, t, ht, sg) in TERMS[terms]:
            u = X[ii] if s == "x" else Y[cc]
            if hs:
                u = u @ P.T
            if sg and bar is not None:  # the target from the EMA copies
                v = Xb[ii] if t == "x" else Yb[cc]
                if ht:
                    v = v @ Pb.T
            else:
                v = X[ii] if t == "x" else Y[cc]
                if ht:
                    v = v @ P.T
                if sg:
                    v = v.detach()
            L = L + (aa * ((u - v) ** 2).sum(dim=1)).sum() / (2 * M)
        return L

    out = [np.concatenate([params[n].detach().numpy().ravel() for n in names])]
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        if bar is not None:
            with torch.no_grad():
                for n in names:
                    bar[n] += (1.0 - tau) * (params[n] - bar[n])
        out.append(np.concatenate([params[n].detach().numpy().ravel() for n in names]))
    return np.array(out)


def c_trajectory(h):
    parts = [h["W"][:].reshape(h["W"].shape[0], -1), h["labels"][:].reshape(h["labels"].shape[0], -1)]
    if "head" in h:
        parts.append(h["head"][:].reshape(h["head"].shape[0], -1))
    return np.concatenate(parts, axis=1)


with tempfile.TemporaryDirectory() as T:
    cases = [
        ("gd", "minimal", 0.0, None, []),
        ("gd", "siam-sg", 0.02, None, ["--weight-decay", "0.02"]),
        ("momentum", "siam-sg", 0.0, None, ["--momentum", "0.6"]),
        ("momentum", "minimal", 0.05, None, ["--momentum", "0.6", "--weight-decay", "0.05"]),
        ("nesterov", "siam-sg", 0.03, None, ["--momentum", "0.6", "--weight-decay", "0.03"]),
        ("adam", "siam-sg", 0.0, None, []),
        ("adam", "minimal", 0.01, None, ["--weight-decay", "0.01"]),
        ("adamw", "siam-sg", 0.1, None, ["--weight-decay", "0.1"]),
        ("gd", "siam-sg", 0.0, 0.7, ["--ema", "0.7"]),
        ("adam", "siam-sg", 0.0, 0.5, ["--ema", "0.5"]),
    ]
    for k, (kind, terms, w, tau, extra) in enumerate(cases):
        out = os.path.join(T, "c%d" % k)
        run(*BASE, "--model", terms, "--optimizer", kind, *extra, "--out", out)
        with h5py.File(os.path.join(out, "snapshots.h5")) as h:
            got = c_trajectory(h)
            ref = torch_trajectory(h, kind, terms, w, tau)
        err = np.max(np.abs(got - ref) / (1.0 + np.abs(ref)))
        check(got.shape == ref.shape and err <= 1e-12,
              "linear encoder, %s %s %s: every step against torch.optim, max rel. error %.2e" % (kind, terms, " ".join(extra), err))
        s = json.load(open(os.path.join(out, "summary.json")))
        check(s["training"]["optimizer"] == kind if "training" in s else kind == "gd" and not extra,
              "%s: summary.json records the training settings" % kind)
        if k == 4:  # summary.json reruns the run
            again = os.path.join(T, "again")
            run("run", "--config", os.path.join(out, "summary.json"), "--quiet", "--out", again)
            check(filecmp.cmp(os.path.join(out, "metrics.csv"), os.path.join(again, "metrics.csv"), shallow=False),
                  "nesterov on the linear encoder: summary.json reruns it through --config")

    # --task teacher-student is --encoder linear --inputs teacher
    a, b = os.path.join(T, "task"), os.path.join(T, "enc")
    common = ["--samples", "12", "--input-dim", "30", "--dim", "4", "--frustration", "0.2", "--integrator", "gd",
              "--dt", "0.1", "--steps", "30", "--quiet", "--model", "siam-sg"]
    run("run", "--task", "teacher-student", *common, "--out", a)
    run("run", "--encoder", "linear", "--inputs", "teacher", *common, "--out", b)
    check(filecmp.cmp(os.path.join(a, "metrics.csv"), os.path.join(b, "metrics.csv"), shallow=False),
          "--task teacher-student = --encoder linear --inputs teacher, byte for byte")
    # --batch M is full-batch gd bit for bit; a smaller batch differs
    M = int(json.load(open(os.path.join(a, "summary.json")))["data"]["n_observations"])
    c, d = os.path.join(T, "bm"), os.path.join(T, "b3")
    run("run", "--task", "teacher-student", *common, "--batch", str(M), "--out", c)
    run("run", "--task", "teacher-student", *common, "--batch", "3", "--out", d)
    check(filecmp.cmp(os.path.join(a, "metrics.csv"), os.path.join(c, "metrics.csv"), shallow=False),
          "--batch M (= %d) on the linear encoder is full-batch gd bit for bit" % M)
    check(not filecmp.cmp(os.path.join(a, "metrics.csv"), os.path.join(d, "metrics.csv"), shallow=False),
          "--batch 3 on the linear encoder changes the run")
    # inputs not available yet: parsed, refused in one line before anything is written
    for args, pat in ((["--inputs", "fashion-mnist"], "not available yet"),
                      (["--inputs", "file", "--inputs-file", os.path.join(T, "x.h5")], "not available yet"),
                      (["--inputs", "file"], "needs --inputs-file"),
                      (["--inputs", "pictures"], "unknown inputs 'pictures'"),
                      (["--encoder", "deep"], "unknown encoder")):
        out = os.path.join(T, "refused")
        p = run("run", "--encoder", "linear", *common, *args, "--out", out, ok=False)
        check(p.returncode == 2 and pat in p.stderr and len(p.stderr.splitlines()) == 1 and not os.path.exists(out),
              "refused: %s [%s]" % (" ".join(args), p.stderr.strip()))

print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
