"""repcollapse: the minimal model of representation collapse, from Python.

Every function runs one command of the repcollapse library through its single
entry point (rc_command) with the CLI's option names as keyword arguments:
``per_class=500`` is ``--per-class 500``, a list is a comma list
(``frustration_list=[0, 0.05]`` is ``--frustration-list 0,0.05``), ``True``
sets a flag (``snapshots=True``) and ``False`` or ``None`` leaves an option
out. So experiment files, sweeps and Python share one vocabulary, and
``repcollapse <command> --help`` documents the keywords.

    import repcollapse
    r = repcollapse.run(classes=2, per_class=500, frustration=0.03)
    print(r)                      # the CLI's result line
    r.metrics["min_label_distance"], r.metrics["t"]   # NumPy arrays
    repcollapse.spectrum(classes=2, per_class=500, frustration=0.03)["slow_rate"]

A failed command raises repcollapse.Error with the CLI's one-line message. A
long command releases the GIL and stops cleanly on Ctrl-C (KeyboardInterrupt;
its partial outputs removed).
"""
import csv
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

from . import _core

__all__ = ["run", "spectrum", "data", "fixedpoint", "selfconsistent", "phase", "sweep", "load", "command", "argv", "table",
           "Error", "RunResult", "PhaseResult", "SweepResult", "read_csv", "cli_path", "__version__"]
__version__ = _core.library_version


class Error(Exception):
    """A repcollapse command failed. str(e) is the CLI's one-line message;
    e.status is the library's status name ("invalid input", "I/O error", ...);
    e.stderr is everything the CLI would have printed on stderr."""

    def __init__(self, message, status="error", stderr=""):
        super().__init__(message)
        self.message, self.status, self.stderr = message, status, stderr


_core.set_error_class(Error)


def _value(v):
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (list, tuple, np.ndarray)):
        return ",".join(_value(x) for x in v)
    return os.fspath(v) if isinstance(v, os.PathLike) else str(v)


def _options(options):
    """[(name, value), ...] of str from keyword arguments (None: left out)."""
    return [(k.replace("_", "-"), _value(v)) for k, v in options.items() if v is not None]


def command(name, progress=None, **options):
    """Run any repcollapse command with the CLI's options; returns what the CLI
    prints on stdout (str). progress(fraction) is called now and then during
    long commands; returning True cancels the command (repcollapse.Error with
    status "cancelled")."""
    return _core.command(name, _options(options), progress)


def argv(name, **options):
    """The CLI command line (a list) that command(name, **options) stands for."""
    out = [name]
    for k, v in _options(options):
        if v in ("true", "false"):
            if v == "true":
                out.append("--" + k)
        else:
            out += ["--" + k, v]
    return out


def read_csv(path):
    """A CSV file with a header as a dict of 1-D arrays by column: float64 where
    every cell is a number or empty (an empty cell is NaN), else an array of str."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    cols = {}
    for j, name in enumerate(header):
        cells = [r[j] if j < len(r) else "" for r in body]
        try:
            cols[name] = np.array([float(c) if c != "" else np.nan for c in cells], dtype=np.float64)
        except ValueError:
            cols[name] = np.array(cells, dtype=object)
    return cols


def _result_line(directory, summary):
    """The line `repcollapse run` prints, from a run directory's summary.json
    (what str(RunResult) gives for a directory read with load)."""
    s = summary
    first_d = None
    metrics_path = os.path.join(directory, "metrics.csv")
    if os.path.exists(metrics_path):
        first_d = read_csv(metrics_path)["min_label_distance"][0]
    fin = s.get("final", {})
    data = s.get("data", {})
    model = s.get("inputs", {}).get("model", {}).get("model", "?")
    integ = s.get("inputs", {}).get("integration", {}).get("integrator", "?")
    line = "%s: N=%d K=%d f=%.4g, model %s, %s to t=%g: loss %.4g, min_label_distance %.4g (from %.4g)" % (
        directory, data.get("n_samples", 0), data.get("n_classes", 0), data.get("frustration", float("nan")), model,
        integ, fin.get("t", float("nan")), _num(fin.get("loss")), _num(fin.get("min_label_distance")), _num(first_d))
    line += ", collapsed at t=%.4g" % s["collapse_time"] if s.get("collapse_time") is not None else ", no collapse"
    return line


def _num(x):
    return float("nan") if x is None else float(x)


class RunResult:
    """A run directory: .metrics (dict of 1-D float arrays by column of
    metrics.csv, 't' included, NaN for empty cells), .summary (summary.json as
    a dict), .snapshots (dict of arrays from snapshots.h5: 't', 'samples',
    'labels', 'head', ... or None without --snapshots), .dir; str() is the
    CLI's result line."""

    def __init__(self, directory, line=None, tmp=None):
        self.dir = os.fspath(directory)
        self._tmp = tmp  # a TemporaryDirectory kept alive as long as the result
        with open(os.path.join(self.dir, "summary.json")) as f:
            self.summary = json.load(f)
        self.metrics = read_csv(os.path.join(self.dir, "metrics.csv"))
        self._snapshots = self._snapshot_attrs = None
        self.line = line if line is not None else _result_line(self.dir, self.summary)

    @property
    def snapshots(self):
        path = os.path.join(self.dir, "snapshots.h5")
        if self._snapshots is None and os.path.exists(path):
            self._snapshots, self._snapshot_attrs = _core.read_h5(path)
        return self._snapshots

    @property
    def snapshot_attrs(self):
        """The snapshot file's attributes (integrator, sizes), or None."""
        self.snapshots
        return self._snapshot_attrs

    def __str__(self):
        return self.line

    def __repr__(self):
        return "<repcollapse.RunResult %s>" % self.line


def run(out=None, progress=None, **options):
    """`repcollapse run`: simulate a model, record its metrics. Keywords are
    run's options (repcollapse run --help); without out the files go to a
    temporary directory that lives as long as the result. Returns a RunResult."""
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="repcollapse-run-")
        out = tmp.name
    text = _core.command("run", _options(options) + [("out", _value(out))], progress)
    return RunResult(out, line=text.rstrip("\n"), tmp=tmp)


def load(directory):
    """Read a run directory written by `repcollapse run` (or run()): a RunResult."""
    return RunResult(directory)


def _json_or_file(name, options, progress=None):
    text = _core.command(name, _options(options), progress)
    out = options.get("out")
    if not text.strip() and out is not None:
        with open(out) as f:
            return json.load(f)
    return json.loads(text)


def spectrum(**options):
    """`repcollapse spectrum`: the dict the CLI prints (exact rates of the minimal model)."""
    return _json_or_file("spectrum", options)


def data(**options):
    """`repcollapse data`: the dict the CLI prints (the data set's description);
    with out=FILE its observations are also written as CSV."""
    return json.loads(_core.command("data", _options(options), None))


def fixedpoint(progress=None, **options):
    """`repcollapse fixedpoint`: the dict the CLI prints (fixed point, stability)."""
    return json.loads(_core.command("fixedpoint", _options(options), progress))


def selfconsistent(progress=None, **options):
    """`repcollapse selfconsistent --json`: the dict the CLI prints (give
    frustration_list=[...]); repcollapse.table(result["rows"]) gives its rows
    as arrays. With out=FILE the same JSON is also written there."""
    options = dict(options)
    options["json"] = True
    out = options.pop("out", None)
    result = json.loads(_core.command("selfconsistent", _options(options), progress))
    if out is not None:
        with open(out, "w") as f:
            json.dump(result, f, indent=2)
    return result


def table(rows):
    """A list of JSON rows (dicts) as a dict of arrays over their scalar keys
    (float64 where numeric, null as NaN; else object arrays)."""
    keys = [k for k, v in rows[0].items() if not isinstance(v, (list, dict))] if rows else []
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in vals):
            cols[k] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        else:
            cols[k] = np.array(vals, dtype=object)
    return cols


class PhaseResult:
    """`repcollapse phase`'s outputs: .table (phase.csv as arrays), .json
    (phase.json), .crossover (list of dicts: model, head_rate_ratio, f_c), .dir;
    str() is what the CLI prints."""

    def __init__(self, directory, text, tmp=None):
        self.dir, self.text, self._tmp = os.fspath(directory), text, tmp
        self.table = read_csv(os.path.join(self.dir, "phase.csv"))
        with open(os.path.join(self.dir, "phase.json")) as f:
            self.json = json.load(f)
        self.crossover = self.json.get("crossover", [])

    def __str__(self):
        return self.text.rstrip("\n")


def phase(out=None, progress=None, **options):
    """`repcollapse phase`: fraction of initial conditions that keep classes
    apart across frustration_list, and the crossover f_c. Returns a PhaseResult."""
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="repcollapse-phase-")
        out = tmp.name
    text = _core.command("phase", _options(options) + [("out", _value(out))], progress)
    return PhaseResult(out, text, tmp)


class SweepResult:
    """A sweep directory: .table (sweep.csv as a dict of arrays, one entry per
    point), .dir, .points(k) (point k's run as a RunResult); str() is what the CLI prints."""

    def __init__(self, directory, text, tmp=None):
        self.dir, self.text, self._tmp = os.fspath(directory), text, tmp
        self.table = read_csv(os.path.join(self.dir, "sweep.csv"))

    def point(self, k):
        return load(os.path.join(self.dir, "points", str(k)))

    def __str__(self):
        return self.text.rstrip("\n")


def cli_path():
    """The installed repcollapse executable (the library's bin directory, else PATH)."""
    exe = os.path.join(_core.bindir, "repcollapse")
    if os.access(exe, os.X_OK):
        return exe
    found = shutil.which("repcollapse")
    if not found:
        raise Error("repcollapse: error: the repcollapse executable is not installed (in %s or on PATH)" % _core.bindir)
    return found


def sweep(grid, out=None, jobs=None, processes=False, progress=None, **options):
    """`repcollapse sweep --grid GRID`: a grid of runs, one row per point in
    sweep.csv. grid is the CLI's grid text ('frustration=0:0.1:5;seed=1:3') or
    a dict {option: values} (values a list, or a string such as '0:0.1:5').

    processes=False (the default): the points run one after another in this
    process, through the library. processes=True (or jobs > 1): the installed
    repcollapse executable runs the sweep in a fresh process (spawn and exec,
    never a fork of this interpreter), its --jobs points at a time. Rerunning
    the same sweep resumes it. Returns a SweepResult."""
    if isinstance(grid, dict):
        grid = ";".join("%s=%s" % (k.replace("_", "-"), v if isinstance(v, str) else _value(v))
                        for k, v in grid.items())
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="repcollapse-sweep-")
        out = tmp.name
    options = dict(options, grid=grid, out=out)
    if processes or (jobs is not None and jobs > 1):
        if jobs is not None:
            options["jobs"] = jobs
        options.setdefault("quiet", True)
        p = subprocess.run([cli_path()] + argv("sweep", **options), capture_output=True, text=True)
        if p.returncode != 0:
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            raise Error(lines[-1] if lines else "repcollapse sweep: exit status %d" % p.returncode,
                        "invalid input" if p.returncode == 2 else "error", p.stderr)
        text = p.stdout
    else:
        text = _core.command("sweep", _options(options), progress)
    return SweepResult(out, text, tmp)
