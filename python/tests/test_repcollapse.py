"""The Python package against the installed CLI: every function gives the
CLI's files and values for the same options, bad input raises
repcollapse.Error with the CLI's message, Ctrl-C (SIGINT) stops a long run
cleanly and leaves the interpreter usable, a progress callback can cancel,
and the GIL is released while a command runs.

Run: venv/bin/python -m pytest python/tests   (scripts/test.sh does)"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import repcollapse as rc

CLI = rc.cli_path()
SMALL = dict(classes=2, per_class=40, frustration=0.05, dim=4)


def cli(args, cwd=None, check=True):
    p = subprocess.run([CLI] + args, capture_output=True, text=True, cwd=cwd)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def cli_error(args):
    """The CLI's one-line error (its last stderr line) and exit status for args."""
    p = cli(args, check=False)
    assert p.returncode != 0
    return p.stderr.strip().splitlines()[-1], p.returncode


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def same_summary(a, b):
    """summary.json of two runs of the same options: equal but for how and when they ran."""
    a, b = dict(a), dict(b)
    for k in ("command_line", "wall_seconds"):
        a.pop(k, None)
        b.pop(k, None)
    assert a == b


# ---- run and load ----

@pytest.mark.parametrize("opts", [
    dict(SMALL),
    dict(SMALL, integrator="gd", dt=0.05, steps=300, snapshots=True),
    dict(SMALL, model="siam-sg", integrator="rk45", t_end=5, points=10, snapshots=True),
    dict(classes=3, per_class=[10, 20, 30], frustrated="0-1:3,1-2:2", dim=3, times=[0, 0.5, 1, 2]),
])
def test_run_matches_cli(tmp_path, monkeypatch, opts):
    (tmp_path / "py").mkdir()
    (tmp_path / "cli").mkdir()
    monkeypatch.chdir(tmp_path / "py")
    r = rc.run(out="out", **opts)
    p = cli(rc.argv("run", **opts) + ["--out", "out"], cwd=tmp_path / "cli")
    assert str(r) == p.stdout.rstrip("\n")  # the CLI's result line
    py, cl = tmp_path / "py" / "out", tmp_path / "cli" / "out"
    assert read(py / "metrics.csv") == read(cl / "metrics.csv")  # byte for byte
    same_summary(r.summary, json.loads(read(cl / "summary.json", "r")))
    # metrics: every column as a float array, values as in the CLI's file
    header = read(cl / "metrics.csv", "r").splitlines()[0].split(",")
    assert list(r.metrics) == header and "t" in r.metrics
    want = np.genfromtxt(cl / "metrics.csv", delimiter=",", skip_header=1)
    for j, name in enumerate(header):
        assert r.metrics[name].dtype == np.float64 and r.metrics[name].ndim == 1
        np.testing.assert_array_equal(r.metrics[name], want[:, j])
    # load() of either directory: the same metrics, summary and result line
    for d in (py, cl):
        back = rc.load(d)
        assert back.summary["final"] == r.summary["final"]
        np.testing.assert_array_equal(back.metrics["min_label_distance"], r.metrics["min_label_distance"])
    assert str(rc.load("out")) == str(r)
    if opts.get("snapshots"):
        h5py = pytest.importorskip("h5py")  # the test's independent reader; the package reads HDF5 in C
        with h5py.File(cl / "snapshots.h5", "r") as f:
            assert sorted(r.snapshots) == sorted(f.keys())
            for k in f.keys():
                np.testing.assert_array_equal(r.snapshots[k], f[k][()])
            assert r.snapshot_attrs["n_samples"] == f.attrs["n_samples"]
        assert r.snapshots["samples"].shape[0] == len(r.metrics["t"])
        np.testing.assert_array_equal(r.snapshots["t"], r.metrics["t"])
        if opts.get("model") == "siam-sg":
            assert r.snapshots["head"].shape[1:] == (4, 4)
    else:
        assert r.snapshots is None


def test_teacher_student_run_matches_cli(tmp_path, monkeypatch):
    opts = dict(task="teacher-student", samples=20, input_dim=80, classes=2, dim=4, frustration=0.1,
                integrator="gd", dt=0.1, steps=200, test_samples=50)
    (tmp_path / "py").mkdir()
    (tmp_path / "cli").mkdir()
    monkeypatch.chdir(tmp_path / "py")
    r = rc.run(out="out", **opts)
    p = cli(rc.argv("run", **opts) + ["--out", "out"], cwd=tmp_path / "cli")
    assert str(r) == p.stdout.rstrip("\n")
    assert read(tmp_path / "py" / "out" / "metrics.csv") == read(tmp_path / "cli" / "out" / "metrics.csv")
    assert "t" in r.metrics and len(r.metrics["t"]) > 2


def test_run_without_out_uses_a_temporary_directory():
    r = rc.run(**SMALL)
    d = r.dir
    assert os.path.exists(os.path.join(d, "summary.json"))
    assert str(r).startswith(d + ": N=")
    del r
    import gc
    gc.collect()
    assert not os.path.exists(d)


def test_empty_cells_are_nan(tmp_path):
    # without frustration, accuracy_frustrated has no samples: empty cells in metrics.csv
    r = rc.run(out=tmp_path / "a", classes=2, per_class=10, dim=2)
    text = read(tmp_path / "a" / "metrics.csv", "r").splitlines()
    col = text[0].split(",").index("accuracy_frustrated")
    assert text[1].split(",")[col] == ""
    assert np.isnan(r.metrics["accuracy_frustrated"]).all()


# ---- the commands that print ----

def test_spectrum_is_the_cli_json():
    for opts in (dict(classes=2, per_class=50, frustration=0.1),
                 dict(classes=3, per_class=20, frustration=0.1, pattern="ring", rates="uniform", dim=4),
                 dict(classes=4, per_class=10, frustration=0.2, method="group")):
        assert rc.spectrum(**opts) == json.loads(cli(rc.argv("spectrum", **opts)).stdout)


def test_spectrum_out_file(tmp_path):
    d = rc.spectrum(out=tmp_path / "s.json", **SMALL)
    cli(rc.argv("spectrum", out=tmp_path / "c.json", **SMALL))
    assert d == json.loads(read(tmp_path / "c.json", "r"))
    assert read(tmp_path / "s.json") == read(tmp_path / "c.json")


def test_data_is_the_cli_json_and_csv(tmp_path):
    opts = dict(classes=3, per_class=15, frustration=0.1, pattern="random", data_seed=7)
    assert rc.data(out=tmp_path / "a.csv", **opts) == json.loads(cli(rc.argv("data", out=tmp_path / "b.csv", **opts)).stdout)
    assert read(tmp_path / "a.csv") == read(tmp_path / "b.csv")


def test_fixedpoint_is_the_cli_json():
    opts = dict(classes=2, per_class=10, frustration=0.1, dim=4, model="siam-sg")
    assert rc.fixedpoint(**opts) == json.loads(cli(rc.argv("fixedpoint", **opts)).stdout)


def test_selfconsistent_is_the_cli_json(tmp_path):
    opts = dict(classes=2, per_class=10, dim=4, model="siam-sg", frustration_list=[0, 0.1], seeds=2)
    got = rc.selfconsistent(**opts)
    assert got == json.loads(cli(rc.argv("selfconsistent", json=True, **opts)).stdout)
    t = rc.table(got["rows"])
    np.testing.assert_array_equal(t["f"], [0, 0.1])
    # the CLI's CSV has the same numbers
    csv = tmp_path / "sc.csv"
    cli(rc.argv("selfconsistent", out=csv, **opts))
    tab = rc.read_csv(csv)
    np.testing.assert_array_equal(tab["f"], t["f"])
    np.testing.assert_array_equal(tab["separation_mean"], t["separation_mean"])


def test_phase_matches_cli(tmp_path):
    opts = dict(classes=2, per_class=10, dim=4, frustration_list="0,0.2", seeds=3)
    p = rc.phase(out=tmp_path / "py", **opts)
    c = cli(rc.argv("phase", out=tmp_path / "cli", **opts))
    assert str(p) == c.stdout.rstrip("\n")
    for f in ("phase.csv", "phase.json"):
        assert read(tmp_path / "py" / f) == read(tmp_path / "cli" / f)
    assert [x["model"] for x in p.crossover] == ["siam", "siam-sg"]
    assert list(p.table["model"]) == ["siam", "siam", "siam-sg", "siam-sg"]
    np.testing.assert_array_equal(p.table["f"], [0, 0.2, 0, 0.2])


@pytest.mark.parametrize("processes", [False, True])
def test_sweep_matches_cli(tmp_path, processes):
    grid = {"frustration": [0, 0.1], "seed": "1:2"}
    opts = dict(classes=2, per_class=10, dim=2)
    s = rc.sweep(grid, out=tmp_path / "py", processes=processes, **opts)
    c = cli(rc.argv("sweep", grid="frustration=0,0.1;seed=1:2", out=tmp_path / "cli", quiet=True, **opts))
    assert read(tmp_path / "py" / "sweep.csv") == read(tmp_path / "cli" / "sweep.csv")
    assert str(s).replace(str(tmp_path / "py"), "D") == c.stdout.rstrip("\n").replace(str(tmp_path / "cli"), "D")
    assert len(s.table["point"]) == 4
    np.testing.assert_array_equal(s.table["frustration"], [0, 0, 0.1, 0.1])
    # a point's run, read back
    r = s.point(3)
    assert r.summary["final"]["min_label_distance"] == s.table["final_min_label_distance"][3]
    # resuming: the same sweep again runs nothing
    again = rc.sweep(grid, out=tmp_path / "py", processes=processes, **opts)
    assert "(0 run now, 4 resumed)" in str(again)


def test_sweep_with_jobs_runs_the_cli(tmp_path):
    s = rc.sweep("seed=1:4", out=tmp_path / "j", jobs=2, classes=2, per_class=10, dim=2)
    assert len(s.table["seed"]) == 4


def test_command_runs_any_command():
    assert rc.command("run", help=True).startswith("usage: repcollapse run")
    assert rc.command("--version").startswith("repcollapse ")


# ---- bad input ----

BAD = [
    ("run", dict(classes="x", per_class=5, out="o")),
    ("run", dict(classes=2, per_class=5, bogus=3, out="o")),
    ("run", dict(classes=2, per_class=5, frustration=1.5, out="o")),
    ("run", dict(classes=2, per_class=5, integrator="gd", dt=10, steps=3, out="o")),
    ("run", dict(classes=2, per_class=5, model="siam", terms="Px-y", out="o")),
    ("run", dict(per_class=5, out="o")),
    ("run", dict(task="teacher-student", samples="x", input_dim=10, classes=2, out="o")),
    ("spectrum", dict(classes=2, per_class=5, method="nope")),
    ("data", dict(classes=2, per_class=0)),
    ("fixedpoint", dict(classes=2, per_class=5, zero_tol=2)),
    ("selfconsistent", dict(classes=2, per_class=5, frustration_list="a,b")),
    ("phase", dict(classes=2, per_class=5, frustration_list="0,2", out="o")),
    ("sweep", dict(grid="frustration=0,1.5", classes=2, per_class=5, out="o")),
    ("sweep", dict(grid="nonsense=1,2", classes=2, per_class=5, out="o")),
]


@pytest.mark.parametrize("cmd,opts", BAD, ids=[c + ":" + ",".join(o) for c, o in BAD])
def test_bad_input_raises_the_cli_message(tmp_path, monkeypatch, cmd, opts):
    monkeypatch.chdir(tmp_path)
    want, status = cli_error(rc.argv(cmd, **opts))
    fn = getattr(rc, cmd)
    if cmd == "sweep":
        opts = dict(opts)
        grid = opts.pop("grid")
        call = lambda: fn(grid, **opts)
    else:
        call = lambda: fn(**opts)
    with pytest.raises(rc.Error) as e:
        call()
    assert str(e.value) == want
    assert e.value.status in ("invalid input", "unstable step") if status == 2 else True
    assert not os.path.exists(tmp_path / "o" / "summary.json")


def test_bad_values_in_python():
    with pytest.raises(rc.Error, match="'--snapshots' is a flag"):
        rc.run(classes=2, per_class=5, snapshots="maybe")
    with pytest.raises(rc.Error, match="unknown command"):
        rc.command("nonsense")
    with pytest.raises(ValueError):
        rc.run(classes=2, per_class=5, pattern="pa\0ir")


def test_missing_directory_for_load(tmp_path):
    with pytest.raises(FileNotFoundError):
        rc.load(tmp_path / "nothing")


# ---- long runs: cancelling, Ctrl-C, the GIL ----

LONG = dict(classes=2, per_class=2000, dim=16, frustration=0.05, integrator="gd", dt=0.01, steps=10_000_000)


def no_temporaries(d):
    return [n for n in os.listdir(d) if ".tmp" in n] if os.path.isdir(d) else []


def test_progress_callback_cancels(tmp_path):
    seen = []

    def progress(f):
        seen.append(f)
        return len(seen) >= 3  # True: stop

    with pytest.raises(rc.Error) as e:
        rc.run(out=tmp_path / "c", progress=progress, snapshots=True, **LONG)
    assert e.value.status == "cancelled"
    assert len(seen) == 3 and seen[-1] < 0.01
    assert not os.path.exists(tmp_path / "c" / "summary.json")
    assert no_temporaries(tmp_path / "c") == []
    # an exception in the callback stops the run and reaches the caller
    def boom(f):
        raise ZeroDivisionError("from the callback")
    with pytest.raises(ZeroDivisionError, match="from the callback"):
        rc.run(out=tmp_path / "d", progress=boom, **LONG)
    assert not os.path.exists(tmp_path / "d" / "summary.json")
    # and the next command runs
    assert rc.spectrum(**SMALL)["n_classes"] == 2


def test_gil_is_released(tmp_path):
    ticks = []
    stop = [False]

    def progress(f):
        return stop[0]

    def long_run():
        try:
            rc.run(out=tmp_path / "g", progress=progress, **LONG)
        except rc.Error:
            pass

    t = threading.Thread(target=long_run)
    t.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        ticks.append(1)  # Python runs in this thread while the command runs in the other
        time.sleep(0.001)
    stop[0] = True
    t.join(30)
    assert not t.is_alive()
    assert len(ticks) > 100


def test_sigint_stops_a_long_run_and_the_interpreter_goes_on(tmp_path):
    out = tmp_path / "long"
    script = textwrap.dedent("""
        import os, sys, time
        import repcollapse as rc
        out = sys.argv[1]
        print("ready", flush=True)
        t0 = time.monotonic()
        try:
            rc.run(out=out, snapshots=True, **%r)
            print("finished (not expected)")
        except KeyboardInterrupt:
            print("KeyboardInterrupt after %%.1f s" %% (time.monotonic() - t0), flush=True)
        left = sorted(os.listdir(out)) if os.path.isdir(out) else []
        print("left:", [n for n in left if ".tmp" in n or n == "summary.json"], flush=True)
        r = rc.run(classes=2, per_class=10, dim=2)
        print("next run:", str(r).split(": ", 1)[1], flush=True)
        print(rc.spectrum(classes=2, per_class=10)["n_samples"], flush=True)
    """ % (LONG,))
    p = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(2.0)  # well inside the run (it would take hours)
    p.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("KeyboardInterrupt after"), stdout
    assert time.monotonic() - t0 < 30
    assert lines[1] == "left: []"  # no summary.json, no temporaries
    assert lines[2].startswith("next run: N=20 K=2")
    assert lines[3] == "20"
