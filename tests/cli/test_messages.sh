#!/usr/bin/env bash
# test_messages.sh: messages and consistency (issue 13): every option is
# checked the same way by every command, numbers have one spelling, limits
# are named, inputs are recognised by content, failures leave nothing behind,
# and every error line has the one prefix `repcollapse <command>: error: `.
# Usage: test_messages.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../../src" && pwd)
cd "$T"
D="--classes 2 --per-class 5 --dim 2 --quiet"
BD="--classes 2 --per-class 5 --dim 2"
BT="--threads 1"
HD0="--per-class 4,3 --frustrated 0-1:1 --dim 2 --model siam-sg"
HD="$HD0 --frustration-list 0"

# ---- capped integers name their cap ----
expect_error 2 "at most 10000000" run $D --out o --points 20000000
expect_error 2 "at most 4096" run $D --out o --threads 5000
expect_error 2 "at most 1000000" phase $HD --out o --seeds 2000000
expect_error 2 "at most 100000 values" phase $HD --out o --frustration-list 0:0.5:200000
expect_error 2 "expected a positive integer" run $D --out o --points 0
expect_error 2 "at most 4096" sweep $BD --grid dim=2 --out o --jobs 5000
expect_error 2 "N at most 1000000" sweep $BD --grid dim=2 --out o --shard 1/2000000
expect_error 1 "at most 2^40" data --classes 2 --per-class 5 --frustrated 0-1:2000000000000
expect_error 1 "at most 2^40" data --classes 2 --per-class 2000000000000
expect_error 2 "at most 4294967295" data --classes 5000000000 --per-class 1
expect_error 2 "at most 4294967295" data --classes 2 --per-class 1 --frustrated 0-5000000000:1
printf '0,0\n1,20000000\n' >biglabel.csv
expect_error 2 "at most 10000000" data --observations biglabel.csv

# ---- --t-min past --t-end ----
expect_error 2 "t-min 100 is past --t-end 10" run $D --out o --t-min 100 --t-end 10
[ ! -e o ] && ok || bad "refused run left o"

# ---- one rule for the end time: --times, --t-end and --steps x --dt must agree ----
expect_error 2 "disagrees" run $D --out o --times 0,1,2 --t-end 5
expect_error 2 "disagrees" run $D --out o --integrator gd --dt 0.1 --steps 30 --times 0,1,2
expect_error 2 "disagrees" run $D --out o --integrator gd --dt 0.1 --steps 30 --t-end 5
"$RC" run $D --out agree --times 0,1,2 --t-end 2 >/dev/null && ok || bad "--times ending at --t-end refused"
"$RC" run $D --out agree2 --integrator gd --dt 0.1 --steps 20 --times 0,1,2 >/dev/null && ok ||
  bad "--times ending at --steps x --dt refused"
"$RC" run $D --out agree3 --integrator gd --dt 0.1 --steps 20 --t-end 2 >/dev/null && ok ||
  bad "--t-end equal to --steps x --dt refused"

# ---- a UTF-8 BOM in a CSV is skipped ----
printf '\xef\xbb\xbfsample,label\n0,0\n1,1\n2,1\n' >bom.csv
printf 'sample,label\n0,0\n1,1\n2,1\n' >plain.csv
"$RC" data --observations bom.csv >bom.json 2>bom.err && "$RC" data --observations plain.csv >plain.json &&
  cmp -s bom.json plain.json && ok || bad "a CSV with a BOM is not read like one without [$(cat bom.err)]"
# a BOM elsewhere is named visibly
printf 'sample,label\n0,0\n\xef\xbb\xbf1,1\n' >bom2.csv
expect_error 2 "U+FEFF" data --observations bom2.csv
printf 'sample,label\n0,0\n1,\x01\n' >ctl.csv
expect_error 2 'got .1,\\x01' data --observations ctl.csv

# ---- JSON experiment files are recognised by content ----
printf '\xef\xbb\xbf{"classes": 2, "per-class": 5}\n' >bom.json
"$RC" data --config bom.json >/dev/null && ok || bad "a JSON config with a BOM is not read as JSON"
printf '[1,2]\n' >list.json
expect_error 2 "expected a JSON object" data --config list.json
printf '  \n[1,2\n' >broken.json
expect_error 2 "invalid JSON" data --config broken.json
printf '\xef\xbb\xbfclasses = 2\nper-class = 5\n' >bom.ini
"$RC" data --config bom.ini >/dev/null && ok || bad "an INI config with a BOM is refused"

# ---- a directory as an input file ----
mkdir adir
expect_error 2 "is a directory" data --observations adir
expect_error 2 "is a directory" data --config adir
expect_error 2 "is a directory" run --config adir --out o

# ---- --help and --version on an unwritable stdout ----
for args in "--help" "--version" "run --help" "bench --help" "sweep --help" "run --task teacher-student --help"; do
  "$RC" $args >/dev/full 2>err
  rc=$?
  [ "$rc" -ne 0 ] && grep -q "cannot write to standard output" err && ok || bad "$args >/dev/full: exit $rc [$(cat err)]"
done

# ---- a malformed REPCOLLAPSE_MEMORY_LIMIT ----
for v in abc 5X 1e3kB -1 0 0x10 ""; do
  REPCOLLAPSE_MEMORY_LIMIT="$v" "$RC" data --classes 2 --per-class 3 >out 2>err
  rc=$?
  if [ -z "$v" ]; then [ "$rc" -eq 0 ] && ok || bad "empty REPCOLLAPSE_MEMORY_LIMIT refused"; continue; fi
  [ "$rc" -eq 2 ] && grep -q "REPCOLLAPSE_MEMORY_LIMIT" err && [ "$(wc -l <err)" -eq 1 ] && ok ||
    bad "REPCOLLAPSE_MEMORY_LIMIT='$v': exit $rc [$(cat err)]"
done
REPCOLLAPSE_MEMORY_LIMIT=2G "$RC" data --classes 2 --per-class 3 >/dev/null && ok || bad "REPCOLLAPSE_MEMORY_LIMIT=2G"

# ---- every command accepts exactly the options it uses ----
for opt in "--checkpoint-every 1" "--resume" "--snapshots"; do
  expect_error 2 "unknown option '${opt%% *}'" fixedpoint $HD0 --t-end 5 $opt
  expect_error 2 "unknown option '${opt%% *}'" selfconsistent $HD $opt
  expect_error 2 "unknown option '${opt%% *}'" phase $HD --out o $opt
done
expect_error 2 "unknown option '--eps'" fixedpoint $HD0 --t-end 5 --eps 0.1
expect_error 2 "unknown option" phase $HD --out o --times 0,1
expect_error 2 "unknown option" selfconsistent $HD --points 5
expect_error 2 "unknown option" bench $BD --points 5
expect_error 2 "unknown option" bench $BD --quiet
expect_error 2 "unknown option '--quiet'" fixedpoint $HD0 --t-end 5 --quiet
# what each command's help lists, it accepts (every option of --help parses)
# (the options of the groups that differ between commands: one process each, so that the ASan build stays quick)
GROUPED='^  --\(integrator\|t-end\|dt\|steps\|rtol\|atol\|exact-method\|precision\|threads\|times\|points\|t-min\|eps\|out\|snapshots\|checkpoint-every\|resume\|quiet\|frustration-list\|seeds\|apart-threshold\|models\|head-ratio-list\|check\|json\|zero-tol\|quick\|method\|grid\|jobs\|shard\) '
for cmd in data spectrum run fixedpoint selfconsistent phase bench figures sweep; do
  "$RC" $cmd --help >help.txt || bad "$cmd --help"
  for o in $(grep -- "$GROUPED" help.txt | grep -o -- '^  --[a-z-]*'); do
    "$RC" $cmd $o --help >/dev/null 2>err
    grep -q "unknown option" err && bad "$cmd --help lists $o, which it refuses [$(cat err)]"
  done
  ok
done

# ---- a forgotten value: the next argument is an option, refused (not taken as the value) ----
# (`figures --out --help` used to run every claim into a directory named "--help")
expect_error 2 "needs a value (got the option '--help'" figures --out --help
[ ! -e ./--help ] && ok || bad "figures --out --help made a directory --help"
expect_error 2 "needs a value (got the option '--dim'" run --classes 2 --per-class 3 --out --dim 2
expect_error 2 "needs a value (got the option '--grid=seed=1:2'" sweep --out --grid=seed=1:2
expect_error 2 "needs a value (got the option '--help'" run --config --help
expect_error 2 "needs a value (got the option '--out'" sweep-merge a b --out --out
"$RC" run --classes 2 --per-class 3 --dim 2 --t-end 1 --quiet --out=--odd >/dev/null && [ -f ./--odd/summary.json ] \
  && ok || bad "--out=--odd: a value starting with -- given with ="
rm -rf ./--odd

# ---- K = 1 ----
expect_error 2 "two classes" phase --classes 1 --per-class 3 --dim 2 --frustration-list 0 --out o
expect_error 2 "two classes" selfconsistent --classes 1 --per-class 3 --dim 2 --frustration-list 0
[ ! -e o ] && ok || bad "refused phase left o"

# ---- help texts state the real defaults ----
"$RC" bench --help >bh.txt
grep -- '--integrator' bh.txt | grep -q 'default gd' && ok || bad "bench --help: integrator default [$(grep -- --integrator bh.txt)]"
steps=$(grep -- '--steps ' bh.txt | sed -n 's/.*default \([0-9]*\).*/\1/p')
"$RC" bench $BD $BT --dt 0.1 >bench.json && [ -n "$steps" ] && grep -q "\"steps\": $steps," bench.json && ok ||
  bad "bench --help: steps default '$steps' is not what bench does"
"$RC" fixedpoint --help >fh.txt
grep -- '--integrator' fh.txt | grep -q 'default reduced' && ok || bad "fixedpoint --help: integrator default"
grep -- '--t-end' fh.txt | grep -q '500' && ok || bad "fixedpoint --help: t-end default omits the head models' 500/eta_x"
"$RC" selfconsistent --help | grep -- '--integrator' | grep -q 'default rk45' && ok || bad "selfconsistent --help: integrator"
"$RC" phase --help | grep -- '--integrator' | grep -q 'default reduced' && ok || bad "phase --help: integrator"
"$RC" run --help | grep -- '--integrator' | grep -q 'default exact' && ok || bad "run --help: integrator"
tol=$("$RC" fixedpoint --help | grep -- '--zero-tol' | sed -n 's/.*default \([0-9e.-]*\)).*/\1/p')
FP="--per-class 4,3 --frustrated 0-1:1 --dim 2 --model siam-sg --t-end 50"
"$RC" fixedpoint $FP >fp.json && "$RC" fixedpoint $FP --zero-tol "$tol" >fp_tol.json &&
  /usr/bin/python3 -c "
import json; a, b = (json.load(open(p))['stability']['tolerance'] for p in ('fp.json', 'fp_tol.json'))
assert a == b, (a, b)" && ok || bad "fixedpoint --help: zero-tol default '$tol' is not the one used"

# ---- one number parser: hex floats, inf, nan refused everywhere ----
expect_error 2 "expected a positive number" run $D --out o --eta-x 0x1p1
expect_error 2 "expected a positive number" run $D --out o --t-end 0x10
expect_error 2 "expected a positive number" run $D --out o --sigma infinity
expect_error 2 "expected a comma list of times" run $D --out o --times 0,0x1p0
expect_error 2 "expected" phase $HD --out o --frustration-list 0:0x1p-2:3
expect_error 2 "weight" run $D --out o --integrator rk45 --terms '0x1p1*Px-y'
printf 'classes = 2\nper-class = 5\neta-x = 0x1p1\n' >hex.ini
expect_error 2 "hex.ini:3: key 'eta-x'" spectrum --config hex.ini
expect_error 2 "hex.ini:3" run --config hex.ini --out o
expect_error 2 "" sweep --classes 2 --per-class 5 --dim 2 --grid eta-x=0x1p1 --out o --quiet
[ ! -e o ] && ok || bad "refused commands left o"

# ---- empty paths ----
expect_error 2 "--out: expected a path" data --classes 2 --per-class 3 --out ''
expect_error 2 "--out: expected a path" run $D --out ''
expect_error 2 "--observations: expected a path" data --observations ''
expect_error 2 "'--config' needs a value" data --config=

# ---- an error after the output directory was made leaves no empty directory ----
expect_error 2 "unstable" run $D --out gdfail --integrator gd --dt 100
[ ! -e gdfail ] && ok || bad "a failed run left gdfail"
mkdir keep
expect_error 2 "unstable" run $D --out keep --integrator gd --dt 100
[ -d keep ] && ok || bad "a failed run removed a directory it did not make"
expect_error 2 "" run $D --out deep/er/dir --integrator gd --dt 100
[ ! -e deep ] && ok || bad "a failed run left deep/"

# ---- one error prefix ----
expect_error 1 "^repcollapse data: error: " data --observations missing.csv
expect_error 2 "^repcollapse run: error: " run $D --out pre --integrator gd --dt 100
expect_error 1 "^repcollapse data: error: " data --config missing.ini
printf 'classes = 2\nbogus = 1\n' >bogus.ini
expect_error 2 "^repcollapse spectrum: error: bogus.ini:2" spectrum --config bogus.ini
"$RC" run $D --out pipe >/dev/full 2>err
grep -q "^repcollapse run: error: cannot write to standard output" err && ok || bad "stdout error prefix [$(cat err)]"
expect_error 2 "^repcollapse: error: unknown command" nosuch
# no message of the sources is printed with a bare "repcollapse: error" once a command is known
if grep -rn '"repcollapse: error' "$SRC" | grep -v 'unknown command\|no command known' >prefix.txt; then
  bad "bare 'repcollapse: error' prefixes in src: $(cat prefix.txt)"
else ok; fi

# ---- integers in JSON are integers ----
"$RC" data --classes 2 --per-class 5 --frustration 0.2 >data.json
"$RC" bench $BD $BT --dt 0.1 --steps 2 >bench.json
"$RC" run $D --out ints >/dev/null
"$RC" spectrum $BD >spec.json
/usr/bin/python3 - data.json bench.json ints/summary.json spec.json <<'PY' && ok || bad "integers printed as reals"
import json, sys
def walk(v, path, bad):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "settings": continue  # the options as given: strings by design
            walk(x, path + "." + k, bad)
            if (k.startswith("n_") or k in ("steps", "dim", "threads", "multiplicity", "zero_modes")) and not isinstance(x, (int, list, dict, type(None))):
                bad.append(path + "." + k + "=" + repr(x))
    elif isinstance(v, list):
        for i, x in enumerate(v): walk(x, path + "[%d]" % i, bad)
bad = []
for p in sys.argv[1:]:
    j = json.load(open(p))
    walk(j, p, bad)
assert not bad, bad
for p in sys.argv[1:3]:
    assert isinstance(json.load(open(p))["n_observations"], int), p
PY

# ---- a rerun from summary.json notices a changed input file ----
printf 'sample,label\n0,0\n1,0\n2,1\n3,1\n4,0\n4,1\n' >obs.csv
"$RC" run --observations obs.csv --dim 2 --quiet --out first >/dev/null || bad "run on obs.csv"
/usr/bin/python3 - first/summary.json "$T/obs.csv" <<'PY' && ok || bad "summary.json lacks the input's hash"
import json, sys
s = json.load(open(sys.argv[1]))
f = s["input_files"]["observations"]
assert f["path"] == sys.argv[2] and f["fnv1a64"].startswith("") and len(f["fnv1a64"]) == 16, f
# FNV-1a 64 of the file's bytes, computed here independently
h = 0xcbf29ce484222325
for b in open(sys.argv[2], "rb").read():
    h = ((h ^ b) * 0x100000001b3) % (1 << 64)
assert f["fnv1a64"] == "%016x" % h, (f, "%016x" % h)
PY
"$RC" run --config first/summary.json --out same >/dev/null && ok || bad "rerun of an unchanged input refused"
printf '5,1\n' >>obs.csv
expect_error 2 "obs.csv' changed since" run --config first/summary.json --out changed
[ ! -e changed ] && ok || bad "refused rerun left changed/"
"$RC" run --config first/summary.json --allow-changed-inputs --out accepted >/dev/null && ok ||
  bad "--allow-changed-inputs does not accept the change"
grep -q '"n_samples": 6' accepted/summary.json && ok || bad "accepted rerun did not read the changed file"
# another file given on the command line is not compared with the recorded one
printf 'sample,label\n0,0\n1,1\n' >other.csv
"$RC" run --config first/summary.json --observations other.csv --out other >/dev/null && ok ||
  bad "an overriding --observations was compared with the recorded hash"
rm obs.csv
expect_error 1 "obs.csv" run --config first/summary.json --out gone
finish
