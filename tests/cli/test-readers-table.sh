#!/usr/bin/env bash
# README.md's "Which readers open which dumps" table says what the QEMU
# reader tests assert (tests/qemu/readers.py); a changed cell is caught.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
check() { # desc, then the command
	local desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		sed 's/^/#   /' "$tmp/out"
		bad=$((bad + 1))
	fi
}
readers=tests/qemu/readers.py

check "README.md's reader matrix is the one readers.py generates" \
	python3 $readers --check-readme README.md

# One cell flipped: the check must fail and say what to do.
awk '/^\| ELF/ && !done { sub(/\| yes \|/, "| no |"); done = 1 } { print }' README.md >"$tmp/README.md"
check "the test's premise: the copy differs from README.md" bash -c "! cmp -s README.md $tmp/README.md"
python3 $readers --check-readme "$tmp/README.md" >"$tmp/flip" 2>&1
rc=$?
check "a flipped cell: exit 1, told to paste readers.py --table" \
	bash -c "[ $rc = 1 ] && grep -q 'paste the output of .tests/qemu/readers.py --table.' $tmp/flip"

grep -v 'reader matrix: generated' README.md >"$tmp/README-nomarker.md"
python3 $readers --check-readme "$tmp/README-nomarker.md" >"$tmp/none" 2>&1
rc=$?
check "no markers: exit 1, says so" bash -c "[ $rc = 1 ] && grep -q 'no reader matrix between the markers' $tmp/none"

python3 $readers --bogus >"$tmp/usage" 2>&1
rc=$?
check "bad arguments: exit 2 with the usage" bash -c "[ $rc = 2 ] && grep -q '^usage: readers.py' $tmp/usage"

# Every expectation names a known reader and kind, in both kernels, and
# every "no"/"n/a" says why.
check "expectations: every kind and reader, yes or no/n/a with a reason" python3 - <<'PY'
import sys
sys.path.insert(0, "tests/qemu")
import readers
kinds = [k for k, _, _ in readers.KINDS]
for series, rows in readers.EXPECTED.items():
    assert sorted(rows) == sorted(kinds), (series, sorted(rows))
    for k, cells in rows.items():
        assert sorted(cells) == sorted(readers.READERS), (series, k)
        for r, text in cells.items():
            assert text == "yes" or (text.split(" (")[0] in ("no", "n/a") and
                                     text.endswith(")") and len(text) > 10), (series, k, r, text)
for what, args, rebuilt, kind in readers.ARG_SETS:
    assert kind in kinds, kind
PY

echo "1..$n"
[ $bad = 0 ]
