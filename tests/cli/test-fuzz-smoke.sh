#!/usr/bin/env bash
# A short run of the readers' fuzz targets (ASan/UBSan standalone builds,
# `make tests` builds them): VMCOREINFO over the corpus in
# tests/fixtures/fuzz/vmcoreinfo, the ELF vmcore reader over its built-in
# tiny machines, each with a sample of prefixes and byte changes. `make
# fuzz` runs them in full.
. tests/cli/lib.sh
dir=$build/fuzz
corpus=tests/fixtures/fuzz/vmcoreinfo
check() { # desc command...
	local desc=$1 out rc
	shift
	n=$((n + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $n - $desc"
		printf '# %s\n' "$(tail -n 1 <<<"$out")"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		printf '#   %s\n' "exit status $rc" "$(tail -n 20 <<<"$out")"
	fi
}

for t in fuzz-vmcoreinfo fuzz-elf-notes; do
	if [ ! -x "$dir/$t-standalone" ]; then
		echo "not ok 1 - $dir/$t-standalone is missing: build it with make tests"
		echo "1..1"
		exit 1
	fi
done
check "fuzz-vmcoreinfo: the corpus and its variants parse or fail cleanly" \
	"$dir/fuzz-vmcoreinfo-standalone" --quick "$corpus"/*
check "fuzz-elf-notes: tiny 6.1 and 6.12 machines and their variants open, filter or fail cleanly" \
	"$dir/fuzz-elf-notes-standalone" --quick
# the targets must be able to fail: a missing input is an error, not a pass
n=$((n + 1))
if "$dir/fuzz-vmcoreinfo-standalone" /nonexistent >/dev/null 2>&1; then
	failed=$((failed + 1))
	echo "not ok $n - fuzz-vmcoreinfo fails on a file it cannot read"
else
	echo "ok $n - fuzz-vmcoreinfo fails on a file it cannot read"
fi
cli_done
