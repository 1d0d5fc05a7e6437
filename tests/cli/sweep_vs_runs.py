#!/usr/bin/python3
"""sweep_vs_runs.py: every row of a sweep's sweep.csv against the same point
run on its own with `repcollapse run` (the fixed options, then --axis value
for each axis column of the row), value by value from that run's summary.json
and metrics.csv. The sweep writes %.17g and summary.json 17 digits, so the
values must be equal, not close.

usage: sweep_vs_runs.py CLI SWEEP_DIR WORK_DIR -- FIXED OPTIONS OF RUN...
"""
import csv
import json
import math
import subprocess
import sys


def num(cell):
    return None if cell == "" else float(cell)


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isnan(a) and math.isnan(b))


def closest_pair(out, K):
    """The index (in summary.json's pair order a < b) of the closest pair of final labels, from snapshots.h5."""
    import h5py
    import numpy as np
    with h5py.File(f"{out}/snapshots.h5", "r") as h:
        Y = np.array(h["labels"][-1])
    pairs = [(a, b) for a in range(K) for b in range(a + 1, K)]
    dist = [float(np.sum((Y[a] - Y[b]) ** 2)) for a, b in pairs]
    return dist.index(min(dist))


def expected(summary, metrics_rows, column, out=None):
    """The value a sweep column must hold, read from one run's own files."""
    final = summary["final"]
    if column.startswith("final_") and column[len("final_"):] in final:
        return final[column[len("final_"):]]
    if column == "initial_min_label_distance":
        first = metrics_rows[0]
        return num(first["min_label_distance"]) if float(first["t"]) == 0.0 else None
    if column == "final_separation_gain":
        head = summary.get("final_head")
        if head is None:
            return None
        gains = head["separation_head_gain"]
        # the sweep's column is the gain on the closest pair of labels (the pair that sets min_label_distance)
        return gains[closest_pair(out, summary["data"]["n_classes"]) if len(gains) > 1 else 0][2]
    table = {
        "n_samples": summary["data"]["n_samples"],
        "n_frustrated": summary["data"]["n_frustrated"],
        "data_frustration": summary["data"]["frustration"],
        "head_rate_ratio": summary["inputs"]["model"].get("head_rate_ratio"),
        "t_end": summary["inputs"]["integration"]["t_end"],
        "collapse_time": summary["collapse_time"],
        "fitted_slow_rate": summary["fitted_slow_rate"],
        "slow_rate": summary["spectrum"]["slow_rate"],
        "next_rate": summary["spectrum"]["next_rate"],
        "predicted_final_min_label_distance": summary["predicted"]["final_min_label_distance"],
    }
    if column not in table:
        raise SystemExit(f"FAIL: sweep.csv has a column this check does not know: {column}")
    return table[column]


def main():
    cli, sweep_dir, work = sys.argv[1:4]
    assert sys.argv[4] == "--"
    fixed = sys.argv[5:]
    with open(f"{sweep_dir}/sweep.csv", newline="") as fp:
        rows = list(csv.DictReader(fp))
    header = list(rows[0].keys())
    first_value = header.index("n_samples")
    axes = header[1:first_value]
    assert header[0] == "point" and header[-1] == "error", header
    failures = 0
    non_null = {}
    for k, row in enumerate(rows):
        assert int(row["point"]) == k, "rows out of point order"
        out = f"{work}/run{k}"
        cmd = [cli, "run", *fixed]
        for a in axes:
            cmd += [f"--{a}", row[a]]
        cmd += ["--out", out, "--quiet", "--snapshots"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(f"{out}/summary.json") as fp:
            summary = json.load(fp)
        with open(f"{out}/metrics.csv", newline="") as fp:
            metrics_rows = list(csv.DictReader(fp))
        if row["error"] != "":
            print(f"FAIL: point {k}: error '{row['error']}' where the run succeeds")
            failures += 1
        for column in header[first_value:-1]:
            want = expected(summary, metrics_rows, column, out)
            got = num(row[column])
            if want is not None:
                non_null[column] = non_null.get(column, 0) + 1
            if not same(got, want if want is None else float(want)):
                print(f"FAIL: point {k} ({' '.join(cmd[2:-3])}): {column} = {got} in sweep.csv, {want} from run")
                failures += 1
    # the comparison must not be null against null throughout
    for column in header[first_value:-1]:
        if column not in ("final_accuracy_frustrated",) and non_null.get(column, 0) == 0:
            print(f"FAIL: {column} is null at every point: this grid does not test it")
            failures += 1
    print(f"sweep_vs_runs: {len(rows)} points x {len(header) - first_value - 1} columns, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
