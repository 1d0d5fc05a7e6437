#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A clone is self-contained: nothing it ships points outside it.

- No tracked file mentions the specification outside the repository (the
  sibling directory `shared`, reached by `..`) or an absolute path of the
  development machine; README.md, docs/, scripts/ and CITATION.cff do not
  name the outside specification file at all (docs/model.md is the project's
  own); every relative link of README.md and docs/*.md names a file of the
  repository.
- docs/model.md numbers its equations in order and every function it names
  is defined in the file it names.
- No --help text and no report.md of `repcollapse figures --quick` names it;
  the top-level --help points to docs/model.md.
- LICENSE is the GPL version 3 (Debian's copy, when there is one); README
  states the licence; CITATION.cff parses as YAML and cites the paper with
  only what is known of it.
- The commands of report.md run as printed: the claim-1 commands, run by
  /bin/sh from another directory with the build directory off PATH,
  rewrite byte-identical metrics.csv files.
Usage: test_selfcontained.py --cli path/to/repcollapse --src SOURCE_DIR"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
ap.add_argument("--src", required=True)
args = ap.parse_args()
CLI = os.path.abspath(args.cli)
SRC = os.path.abspath(args.src)
failures = 0

# built from pieces, so that this file does not contain what it looks for
OUTSIDE = ".." + "/" + "shared"
SPEC = "MODEL" + ".md"
MACHINE = "/" + "work" + "/"


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)


def tracked_files():
    p = subprocess.run(["git", "-C", SRC, "ls-files", "-z"], capture_output=True)
    if p.returncode == 0 and p.stdout:
        return [f for f in p.stdout.decode().split("\0") if f]
    out = []  # not a git checkout (a source tarball): every file but build trees
    for root, dirs, files in os.walk(SRC):
        dirs[:] = [d for d in dirs if d != ".git" and not d.startswith("build")]
        out += [os.path.relpath(os.path.join(root, f), SRC) for f in files]
    return out


def read(rel):
    try:
        with open(os.path.join(SRC, rel), "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except (IsADirectoryError, FileNotFoundError):
        return ""


# ---- tracked files ----
files = tracked_files()
check(len(files) > 50, f"only {len(files)} tracked files found under {SRC}")
user_facing = lambda f: f in ("README.md", "CITATION.cff") or f.startswith(("docs/", "scripts/"))
for f in files:
    text = read(f)
    check(OUTSIDE not in text, f"{f} refers to {OUTSIDE}")
    check(MACHINE not in text, f"{f} names an absolute path of the development machine ({MACHINE}...)")
    if user_facing(f):
        for n, line in enumerate(text.splitlines(), 1):
            check(SPEC not in line, f"{f}:{n} names {SPEC} (the project's own description is docs/model.md): {line.strip()[:100]}")
for f in [f for f in files if f == "README.md" or (f.startswith("docs/") and f.endswith(".md"))]:
    prose = re.sub(r"```.*?```", "", read(f), flags=re.S)  # links, not code: drop fenced blocks and `spans`
    prose = re.sub(r"`[^`\n]*`", "", prose)
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = os.path.normpath(os.path.join(SRC, os.path.dirname(f), target.split("#")[0]))
        check(path.startswith(SRC + os.sep) and os.path.exists(path), f"{f}: link ({target}) is not a file of the repository")
check("docs/model.md" in files, "docs/model.md is not tracked")

# docs/model.md: every equation numbered (s.k) in order, every file it names
# exists, and every function it names (`name()`) is defined in the file named
# last before it
model = read("docs/model.md")
numbers = re.findall(r"\(([1-6])\.([0-9]+)\)\s*$", model, re.M)
check(len(numbers) >= 30, f"docs/model.md: only {len(numbers)} numbered equations")
last = {}
for sec, k in numbers:
    check(int(k) == last.get(sec, 0) + 1, f"docs/model.md: equation ({sec}.{k}) out of order")
    last[sec] = int(k)
current, n_funcs = None, 0
for tok in re.findall(r"`([^`]+)`", model):
    if re.fullmatch(r"(src|include|bench)/[\w/.]+\.[ch]", tok):
        current = tok
        check(os.path.exists(os.path.join(SRC, tok)), f"docs/model.md names {tok}, which does not exist")
    elif re.fullmatch(r"[a-z_][a-z0-9_]*\(\)", tok):
        n_funcs += 1
        name = tok[:-2]
        text = read(current) if current else ""
        check(re.search(r"^[a-z].*\b" + name + r"\(", text, re.M) is not None,
              f"docs/model.md: {tok} is not defined in {current}")
check(n_funcs >= 40, f"docs/model.md names only {n_funcs} functions")

# ---- licence and citation ----
lic = read("LICENSE")
check(lic.lstrip().startswith("GNU GENERAL PUBLIC LICENSE") and "Version 3, 29 June 2007" in lic[:200]
      and "How to Apply These Terms to Your New Programs" in lic, "LICENSE is not the full GPL version 3")
if os.path.exists("/usr/share/common-licenses/GPL-3"):
    check(lic == open("/usr/share/common-licenses/GPL-3").read(), "LICENSE differs from /usr/share/common-licenses/GPL-3")
readme = read("README.md")
check("GPL-3.0-or-later" in readme and "GSL" in readme and "LICENSE" in readme, "README does not state the licence and why")
try:
    import yaml
except ImportError:
    sys.exit("python3-yaml is missing (bash scripts/deps.sh installs it)")
cff = yaml.safe_load(read("CITATION.cff"))
check(isinstance(cff, dict), "CITATION.cff is not a YAML mapping")
for key in ("cff-version", "message", "title", "authors"):  # required by CFF 1.2.0
    check(key in cff, f"CITATION.cff lacks {key}")
check(cff.get("cff-version") == "1.2.0" and cff.get("type") == "software", "CITATION.cff: cff-version 1.2.0, type software")
check(cff.get("license") == "GPL-3.0-or-later", f"CITATION.cff license {cff.get('license')}")
cmake = read("CMakeLists.txt")
m = re.search(r"project\(repcollapse VERSION ([0-9.]+)", cmake)
check(m and str(cff.get("version")) == m.group(1), f"CITATION.cff version {cff.get('version')} is not the project's {m and m.group(1)}")
papers = [r for r in cff.get("references", []) if "Representation Collapse" in str(r.get("title"))]
check(len(papers) == 1, "CITATION.cff does not cite the paper under references")
if papers:
    p = papers[0]
    check(p.get("title") == "A Minimal Model of Representation Collapse: Frustration, Stop-Gradient, and Dynamics", f"paper title {p.get('title')}")
    check(p.get("authors") == [{"family-names": "Yao"}, {"family-names": "Liu"}, {"family-names": "Li"}],
          f"paper authors {p.get('authors')} (family names only: nothing else is known)")
    check(p.get("year") == 2026, f"paper year {p.get('year')}")
    check(any(i.get("value") == "arXiv:2604.09979" for i in p.get("identifiers", [])), "paper: arXiv:2604.09979 missing")
check("given-names" not in read("CITATION.cff"), "CITATION.cff gives given names (none are known)")

# ---- --help texts ----
def out_of(*argv):
    p = subprocess.run([CLI, *argv], capture_output=True, text=True)
    return p.stdout + p.stderr


top = out_of("--help")
check("docs/model.md" in top, "repcollapse --help does not point to docs/model.md")
commands = re.findall(r"^  ([a-z][a-z-]+) ", top.split("commands:")[1], re.M)
check(len(commands) >= 10, f"commands found in --help: {commands}")
helps = {"--help": top, "run --task teacher-student --help": out_of("run", "--task", "teacher-student", "--help")}
for c in commands:
    helps[f"{c} --help"] = out_of(c, "--help")
for what, text in helps.items():
    check(SPEC not in text and OUTSIDE not in text, f"repcollapse {what} names {SPEC} or {OUTSIDE}")

# ---- report.md: no outside reference; its commands run as printed ----
with tempfile.TemporaryDirectory() as tmp:
    fig = os.path.join(tmp, "fig")
    p = subprocess.run([CLI, "figures", "--quick", "--out", "fig"], cwd=tmp, capture_output=True, text=True)
    check(p.returncode == 0, f"figures --quick failed: {p.stderr[-300:]}")
    report = open(os.path.join(fig, "report.md")).read() if p.returncode == 0 else ""
    check(SPEC not in report and OUTSIDE not in report, f"report.md names {SPEC} or {OUTSIDE}")
    check("docs/model.md" in report, "report.md does not point to docs/model.md")
    lines = [l for l in report.splitlines() if l.startswith(CLI + " ")]
    check(len(lines) >= 10, f"report.md: {len(lines)} commands start with the binary's absolute path {CLI}")
    claim1 = [l for l in lines if " --out " + os.path.join(fig, "claim1") + "/" in l]
    check(len(claim1) >= 2, f"claim-1 commands: {claim1}")
    elsewhere = os.path.join(tmp, "elsewhere")
    os.mkdir(elsewhere)
    env = dict(os.environ, PATH="/usr/bin:/bin")  # no repcollapse on PATH
    for line in claim1:
        out_dir = line.split(" --out ")[1].split()[0]
        before = open(os.path.join(out_dir, "metrics.csv"), "rb").read()
        q = subprocess.run(["/bin/sh", "-c", line], cwd=elsewhere, env=env, capture_output=True, text=True)
        check(q.returncode == 0, f"as printed, from another directory: {line}: exit {q.returncode} {q.stderr[-200:]}")
        after = open(os.path.join(out_dir, "metrics.csv"), "rb").read()
        check(after == before, f"{line}: metrics.csv differs from the report's")
    check(os.listdir(elsewhere) == [], f"the commands wrote into the current directory: {os.listdir(elsewhere)}")
    # a directory whose path the printed commands could not carry is refused up front, with one line
    q = subprocess.run([CLI, "figures", "--quick", "--out", os.path.join(tmp, "two words")], capture_output=True, text=True)
    check(q.returncode == 2 and q.stderr.count("\n") == 1 and "must not contain blanks" in q.stderr
          and not os.path.exists(os.path.join(tmp, "two words")),
          f"figures --out with a blank: exit {q.returncode}, {q.stderr!r}")

print("ok" if failures == 0 else f"{failures} failures")
sys.exit(1 if failures else 0)
