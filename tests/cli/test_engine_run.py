#!/usr/bin/python3
"""test_engine_run.py: `repcollapse run` driving the one engine's discrete loop
(--optimizer, --batch, --ema, --weight-decay with --integrator gd), each
against something independent:
  - heavy-ball momentum and Nesterov: the fitted decay of D against the root of
    the per-mode recursion of model.md 6.1, computed here from `spectrum`'s
    slow rate (NumPy roots);
  - the regime recorded in summary.json (overdamped at beta 0.5, underdamped at
    beta 0.9, dt 0.1);
  - --ema 0 is plain sg and --batch M is full-batch gd, bit for bit (against
    the plain kernels, another code path);
  - summary.json reruns through --config;
  - what is not driven is refused before any work (another optimizer than gd
    in flow), nothing written. (--collapse-metric is driven: cli_optim; flow
    with decay and EMA: cli_engine_flow; checkpoints: cli_resume_engine_*; the
    optimizers on the teacher-student task's linear encoder against
    torch.optim: cli_encoder_optim.)
Usage: test_engine_run.py --cli BIN"""
import argparse
import filecmp
import json
import math
import os
import subprocess
import sys
import tempfile

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


def mode_rate(kind, beta, h, dt):
    if kind == "momentum":
        r = np.roots([1.0, -(1 + beta - h), beta])
    else:  # nesterov
        r = np.roots([1.0, -(1 + beta) * (1 - h), beta * (1 - h)])
    return -math.log(max(abs(r))) / dt


with tempfile.TemporaryDirectory() as T:
    data = ["--classes", "2", "--per-class", "100", "--frustration", "0.04"]
    sp = json.loads(run("spectrum", *data).stdout)
    slow = sp["slow_rate"]
    C = data + ["--dim", "8", "--integrator", "gd", "--dt", "0.1", "--steps", "4000", "--points", "40", "--quiet"]
    for kind, beta in (("momentum", 0.5), ("nesterov", 0.5)):
        out = os.path.join(T, kind)
        run("run", *C, "--optimizer", kind, "--momentum", str(beta), "--out", out)
        s = json.load(open(os.path.join(out, "summary.json")))
        pred = mode_rate(kind, beta, 0.1 * slow, 0.1)
        fit = s["fitted_slow_rate"]
        check(fit is not None and abs(fit - pred) <= 1e-4 * pred,
              "%s beta %g: fitted %.6f against the recursion's root %.6f" % (kind, beta, fit or -1, pred))
        check(s["training"]["momentum_regime"] == "overdamped", "%s beta 0.5: overdamped" % kind)
        again = os.path.join(T, kind + "_again")
        run("run", "--config", os.path.join(out, "summary.json"), "--quiet", "--out", again)
        check(filecmp.cmp(os.path.join(out, "metrics.csv"), os.path.join(again, "metrics.csv"), shallow=False),
              "%s: summary.json reruns the run through --config" % kind)
    out = os.path.join(T, "under")
    run("run", *C, "--optimizer", "momentum", "--momentum", "0.9", "--out", out)
    s = json.load(open(os.path.join(out, "summary.json")))
    check(s["training"]["momentum_regime"] == "underdamped", "momentum beta 0.9, dt 0.1: the slow mode underdamped")

    # bit for bit against the plain kernels
    run("run", *C, "--model", "siam-sg", "--out", os.path.join(T, "sg"))
    run("run", *C, "--model", "siam-sg", "--ema", "0", "--out", os.path.join(T, "ema0"))
    check(filecmp.cmp(os.path.join(T, "sg", "metrics.csv"), os.path.join(T, "ema0", "metrics.csv"), shallow=False),
          "--ema 0 equals plain sg bit for bit")
    run("run", *C, "--out", os.path.join(T, "plain"))
    M = int(json.load(open(os.path.join(T, "plain", "summary.json")))["data"]["n_observations"])
    run("run", *C, "--batch", str(M), "--out", os.path.join(T, "bM"))
    check(filecmp.cmp(os.path.join(T, "plain", "metrics.csv"), os.path.join(T, "bM", "metrics.csv"), shallow=False),
          "--batch M equals full-batch gd bit for bit")
    # a real minibatch: a different trajectory, collapse still
    run("run", *C, "--batch", "54", "--dt", "0.02", "--steps", "20000", "--out", os.path.join(T, "b54"))
    s = json.load(open(os.path.join(T, "b54", "summary.json")))
    check(s["collapse_time"] is not None and s["training"]["batch"] == 54, "--batch 54: runs, collapses, recorded")

    # refused before any work
    for args, pat in (
        (["--integrator", "rk45", "--t-end", "10", "--optimizer", "adam"], "applies to the discrete integrator"),
    ):
        out = os.path.join(T, "refused")
        p = run("run", *data, "--quiet", *args, "--out", out, ok=False)
        check(p.returncode == 2 and pat in p.stderr and len(p.stderr.splitlines()) == 1 and not os.path.exists(out),
              "refused: %s [%s]" % (" ".join(args), p.stderr.strip()))
    p = run("run", "--task", "teacher-student", "--samples", "20", "--input-dim", "80", "--integrator", "gd", "--dt",
            "0.1", "--steps", "10", "--optimizer", "momentum", "--quiet", "--out", os.path.join(T, "ts"), ok=False)
    # the teacher-student task (the linear encoder) is driven by the engine's trainer now: not ignored
    ts = os.path.join(T, "ts")
    check(p.returncode == 0 and json.load(open(os.path.join(ts, "summary.json")))["training"]["optimizer"] == "momentum",
          "teacher-student with --optimizer momentum runs through the engine and records it [%s]" % p.stderr.strip())
    p = run("run", "--task", "teacher-student", "--samples", "20", "--input-dim", "80", "--integrator", "gd", "--dt",
            "0.1", "--steps", "10", "--quiet", "--out", os.path.join(T, "ts-gd"))
    check(not filecmp.cmp(os.path.join(ts, "metrics.csv"), os.path.join(T, "ts-gd", "metrics.csv"), shallow=False),
          "teacher-student: --optimizer momentum changes the run (not ignored)")

print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
