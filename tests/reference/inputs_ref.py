#!/usr/bin/python3
"""Independent reading of the real inputs (docs/model.md section 6.3), compared
with what the library loads (tests/unit/inputs_dump.c drives inputs.h):

  - Fashion-MNIST (Debian's dataset-fashion-mnist): the IDX files read here
    with Python's gzip and NumPy; u = (pixel/255 - per-pixel training mean) /
    sqrt(mean training |.|^2) recomputed over all 60000 training images; every
    loaded input row equals the normalised training image it names, the test
    rows the first test images; mean |u|^2 over the training set is 1; the
    selection has n per class, distinct rows, F = round(f C / (1 - f))
    frustrated samples each seen with its own label and one other; seeded.
  - Corrupted copies of IDX files (truncated, bad magic, wrong rank, count
    mismatch, label out of range, trailing bytes, not gzip at all, missing):
    each a one-line error naming the file, exit 1.
  - HDF5 files written here with h5py: rows and labels equal h5py's reading;
    every malformed case a one-line error.

    inputs_ref.py --dump PATH/inputs_dump      (the ctest `inputs_reference`)
"""

import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

FM = "/usr/share/datasets/fashion-mnist"
FAIL = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAIL.append(what)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    rank = b[3]
    dims = struct.unpack(">" + "I" * rank, b[4:4 + 4 * rank])
    return np.frombuffer(b[4 + 4 * rank:], dtype=np.uint8).reshape(dims)


def write_idx(path, arr, magic=None, dims=None, extra=b"", compress=True):
    arr = np.asarray(arr, dtype=np.uint8)
    dims = arr.shape if dims is None else dims
    head = magic if magic is not None else bytes([0, 0, 8, len(dims)])
    b = head + struct.pack(">" + "I" * len(dims), *dims) + arr.tobytes() + extra
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(b)


def run(dump, args):
    return subprocess.run([dump] + [str(a) for a in args], capture_output=True, text=True)


def load(dump, args, out):
    p = run(dump, args + [out])
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    j = json.load(open(out + ".json"))
    U = np.fromfile(out + ".U.bin").reshape(j["N"], j["D"]) if j["N"] else None
    Ut = np.fromfile(out + ".Ut.bin").reshape(j["n_test"], j["D"]) if j["n_test"] else np.zeros((0, j["D"]))
    return j, U, Ut


def refused(dump, args, needle, what):
    p = run(dump, args)
    lines = p.stderr.strip().splitlines()
    ok = p.returncode == 1 and len(lines) == 1 and "error:" in lines[0] and needle in lines[0]
    check(ok, f"refused: {what}" + ("" if ok else f" (rc {p.returncode}, stderr {p.stderr!r})"))


def selection_checks(j, per_class, f, K, what):
    rows, labels, obs = j["rows"], j["labels"], j["observations"]
    C = per_class * K
    F = int(np.floor(f * C / (1 - f) + 0.5))
    check(j["N"] == C + F and j["n_frustrated"] == F, f"{what}: N = C + F with F = round(f C/(1-f)) = {F}")
    check(len(set(rows)) == len(rows), f"{what}: distinct source rows")
    check(all(labels[:C].count(c) == per_class for c in range(K)) and
          labels[:C] == sorted(labels[:C]), f"{what}: {per_class} clean per class, class by class")
    by = {}
    for (i, c, a) in obs:
        by.setdefault(i, []).append((c, a))
    ok = all(by[i] == [(labels[i], 1.0)] for i in range(C))
    ok &= all(len(by[i]) == 2 and labels[i] in [c for c, _ in by[i]] and
              all(a == 1.0 for _, a in by[i]) for i in range(C, C + F))
    check(ok, f"{what}: clean samples seen once with their label, frustrated twice (own label + another)")


def fashion(dump, tmp):
    img = read_idx(f"{FM}/train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float64) / 255.0
    lab = read_idx(f"{FM}/train-labels-idx1-ubyte.gz")
    timg = read_idx(f"{FM}/t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float64) / 255.0
    tlab = read_idx(f"{FM}/t10k-labels-idx1-ubyte.gz")
    mean = img.mean(axis=0)
    scale = np.sqrt(((img - mean) ** 2).sum(axis=1).mean())
    u_train = (img - mean) / scale
    check(abs((u_train ** 2).sum(axis=1).mean() - 1.0) < 1e-12, "fashion: mean |u|^2 = 1 on the training set")
    out = os.path.join(tmp, "fm")
    j, U, Ut = load(dump, ["fashion", FM, 5, 0.25, 3, 50], out)
    rows = np.array(j["rows"])
    check(j["D"] == 784 and j["K"] == 10 and j["n_test"] == 50, "fashion: D = 784, K = 10, 50 test images")
    err = np.max(np.abs(U - u_train[rows]))
    check(err < 1e-12, f"fashion: inputs equal NumPy's normalised images (max err {err:.1e})")
    check(list(lab[rows]) == j["labels"], "fashion: labels equal the IDX labels of the rows")
    err = np.max(np.abs(Ut - (timg[:50] - mean) / scale))
    check(err < 1e-12 and list(tlab[:50]) == j["test_labels"], f"fashion: test set (max err {err:.1e})")
    selection_checks(j, 5, 0.25, 10, "fashion")
    j2, _, _ = load(dump, ["fashion", FM, 5, 0.25, 3, 0], out)
    j3, _, _ = load(dump, ["fashion", FM, 5, 0.25, 4, 0], out)
    check(j2["rows"] == j["rows"] and j2["observations"] == j["observations"], "fashion: seeded (same seed, same samples)")
    check(j3["rows"] != j["rows"], "fashion: another seed, other samples")
    check(j2["n_test"] == 0, "fashion: n_test 0, no test set")
    ja, _, Uta = load(dump, ["fashion", FM, 1, 0.0, 3, -1], out)
    check(ja["n_test"] == 10000 and ja["N"] == 10, "fashion: all 10000 test images by default, f = 0 no extra samples")


def fake_fashion(d, n=60, t=20, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(d, exist_ok=True)
    write_idx(f"{d}/train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
    write_idx(f"{d}/train-labels-idx1-ubyte.gz", np.arange(n) % 10)
    write_idx(f"{d}/t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (t, 28, 28)))
    write_idx(f"{d}/t10k-labels-idx1-ubyte.gz", np.arange(t) % 10)


def corrupted(dump, tmp):
    good = os.path.join(tmp, "good")
    fake_fashion(good)
    out = os.path.join(tmp, "fake")
    j, U, _ = load(dump, ["fashion", good, 3, 0.0, 1, -1], out)
    check(j["N"] == 30 and j["n_test"] == 20, "fake Fashion-MNIST directory loads")
    refused(dump, ["fashion", good, 7, 0.0, 1, -1, out], "fewer than --per-class 7", "per class above a class's size")
    refused(dump, ["fashion", good, 5, 0.5, 1, -1, out], "further samples", "frustration beyond the remaining images")
    img = "train-images-idx3-ubyte.gz"
    rng = np.random.default_rng(1)
    cases = []

    def case(name, fn, needle):
        d = os.path.join(tmp, name)
        fake_fashion(d)
        fn(d)
        cases.append((d, needle, name))

    def truncate(d):
        b = open(f"{d}/{img}", "rb").read()
        open(f"{d}/{img}", "wb").write(b[:len(b) // 2])

    def truncate_raw(d):  # a complete gzip stream whose IDX content stops short
        write_idx(f"{d}/{img}", rng.integers(0, 256, (59, 28, 28)), dims=(60, 28, 28))

    def flip_byte(d):
        b = bytearray(open(f"{d}/{img}", "rb").read())
        b[len(b) // 2] ^= 0xFF
        open(f"{d}/{img}", "wb").write(bytes(b))

    case("truncated_gzip", truncate, img)
    case("truncated_idx", truncate_raw, "truncated")
    case("corrupt_gzip", flip_byte, img)
    case("bad_magic", lambda d: write_idx(f"{d}/{img}", np.zeros((60, 28, 28)), magic=bytes([0, 0, 9, 3])),
         "not an IDX file")
    case("wrong_rank", lambda d: write_idx(f"{d}/{img}", np.zeros((60, 784))), "rank 2, expected 3")
    case("zero_dim", lambda d: write_idx(f"{d}/{img}", np.zeros(0), dims=(0, 28, 28)), "dimension 0 is 0")
    case("huge_dims", lambda d: write_idx(f"{d}/{img}", np.zeros(10), dims=(100000, 28000, 28)), "more than")
    case("count_mismatch", lambda d: write_idx(f"{d}/train-labels-idx1-ubyte.gz", np.arange(59) % 10),
         "59 labels for 60 images")
    case("label_range", lambda d: write_idx(f"{d}/train-labels-idx1-ubyte.gz", np.arange(60) % 11),
         "outside 0..9")
    case("trailing", lambda d: write_idx(f"{d}/{img}", np.zeros((60, 28, 28)), extra=b"xyz"), "trailing bytes")
    case("not_gzip", lambda d: open(f"{d}/{img}", "wb").write(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()),
         img)
    case("missing", lambda d: os.remove(f"{d}/{img}"), "cannot open")
    case("test_shape", lambda d: write_idx(f"{d}/t10k-images-idx3-ubyte.gz", np.zeros((20, 14, 14))), "test images")
    for d, needle, name in cases:
        refused(dump, ["fashion", d, 3, 0.0, 1, -1, out], needle, f"IDX {name}")
    # a plain (uncompressed) IDX file is read too (zlib reads it transparently)
    d = os.path.join(tmp, "plain")
    fake_fashion(d)
    arr = np.random.default_rng(5).integers(0, 256, (60, 28, 28))
    write_idx(f"{d}/{img}", arr, compress=False)
    j, U, _ = load(dump, ["fashion", d, 3, 0.0, 1, 0], out)
    v = arr.reshape(60, -1) / 255.0
    ref = (v - v.mean(0)) / np.sqrt(((v - v.mean(0)) ** 2).sum(1).mean())
    check(np.max(np.abs(U - ref[j["rows"]])) < 1e-12, "plain IDX file read and normalised as NumPy does")


def h5(dump, tmp):
    rng = np.random.default_rng(2)
    N, D, K, T = 60, 5, 3, 9
    X = rng.normal(size=(N, D))
    y = np.arange(N) % K
    Xt = rng.normal(size=(T, D))
    yt = np.arange(T) % K
    good = os.path.join(tmp, "good.h5")
    with h5py.File(good, "w") as f:
        f["inputs"] = X
        f["labels"] = y.astype(np.int32)
        f["test_inputs"] = Xt.astype(np.float32)
        f["test_labels"] = yt.astype(np.uint8)
    with h5py.File(good, "r") as f:  # h5py's own reading
        hX, hy, hXt, hyt = f["inputs"][...], f["labels"][...], f["test_inputs"][...].astype(np.float64), f["test_labels"][...]
    out = os.path.join(tmp, "h5")
    j, U, Ut = load(dump, ["file", good, 0, 0.0, 1], out)
    check(j["N"] == N and j["rows"] == list(range(N)) and np.array_equal(U, hX) and j["labels"] == list(hy),
          "file: every sample, in file order, equal to h5py's reading")
    check(j["n_test"] == T and np.array_equal(Ut, hXt) and j["test_labels"] == list(hyt),
          "file: test set (float32 and uint8 converted) equal to h5py's reading")
    j, U, Ut = load(dump, ["file", good, 10, 0.2, 7], out)
    check(np.array_equal(U, hX[j["rows"]]) and j["labels"] == list(hy[j["rows"]]), "file: chosen rows equal h5py's")
    selection_checks(j, 10, 0.2, K, "file")
    refused(dump, ["file", good, 0, 0.2, 1, out], "further samples", "file: frustration without room (no --per-class)")

    def bad(name, needle, **ds):
        p = os.path.join(tmp, name + ".h5")
        with h5py.File(p, "w") as f:
            for k, v in ds.items():
                if v is not None:
                    f[k] = v
        refused(dump, ["file", p, 0, 0.0, 1, out], needle, f"file {name}")

    bad("missing_inputs", "missing dataset 'inputs'", labels=y)
    bad("missing_labels", "missing dataset 'labels'", inputs=X)
    bad("inputs_rank", "'inputs' has rank 1", inputs=X[:, 0], labels=y)
    bad("labels_rank", "'labels' has rank 2", inputs=X, labels=y[:, None])
    bad("mismatch", "'labels' has 59 entries but 'inputs' has 60", inputs=X, labels=y[:59])
    bad("negative", "outside 0..", inputs=X, labels=np.where(np.arange(N) == 4, -1, y))
    bad("huge_label", "outside 0..", inputs=X, labels=np.where(np.arange(N) == 4, 10 ** 12, y))
    bad("float_labels", "must hold integers", inputs=X, labels=y.astype(float))
    bad("text_inputs", "must hold numbers", inputs=np.array([[b"ab"] * D] * N), labels=y)
    bad("empty_class", "class 1 has no sample", inputs=X, labels=2 * (y % 2))
    bad("one_class", "at least 2", inputs=X, labels=np.zeros(N, dtype=int))
    Xn = X.copy()
    Xn[7, 3] = np.nan
    bad("nan", "row 7 column 3 is not finite", inputs=Xn, labels=y)
    Xi = X.copy()
    Xi[2, 0] = np.inf
    bad("inf", "row 2 column 0 is not finite", inputs=Xi, labels=y)
    bad("test_without_labels", "'test_inputs' without 'test_labels'", inputs=X, labels=y, test_inputs=Xt)
    bad("labels_without_test", "'test_labels' without 'test_inputs'", inputs=X, labels=y, test_labels=yt)
    bad("test_columns", "'test_inputs' has 4 columns", inputs=X, labels=y, test_inputs=Xt[:, :4], test_labels=yt)
    bad("test_label_range", "'test_labels' entry 0 is 3", inputs=X, labels=y, test_inputs=Xt,
        test_labels=np.where(np.arange(T) == 0, 3, yt))
    bad("empty", "is empty", inputs=np.zeros((0, D)), labels=np.zeros(0, dtype=int))
    nh = os.path.join(tmp, "not.h5")
    open(nh, "w").write("not hdf5\n")
    refused(dump, ["file", nh, 0, 0.0, 1, out], "as an HDF5 file", "file: not HDF5")
    refused(dump, ["file", os.path.join(tmp, "absent.h5"), 0, 0.0, 1, out], "as an HDF5 file", "file: missing")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.isdir(FM):
            fashion(a.dump, tmp)
        else:
            check(False, f"{FM} is missing: run scripts/deps.sh (dataset-fashion-mnist)")
        corrupted(a.dump, tmp)
        h5(a.dump, tmp)
    print(f"{len(FAIL)} failure(s)")
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
