#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed".
#
#   tests/run-tests.sh [--build DIR] [--unit-only] [--qemu-only] [--jobs N]
#
# Each test program speaks TAP ("ok N - name" / "not ok N - name"); cmocka
# does when CMOCKA_MESSAGE_OUTPUT=TAP. A program that crashes, or exits
# non-zero with no "not ok" line, counts as one failure of its own.
# QEMU tests (tests/qemu/test-*.py) run two at a time: independent guests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$top/build
unit=1 qemu=1 jobs=2
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$(cd "$2" && pwd); shift ;;
	--unit-only) qemu=0 ;;
	--qemu-only) unit=0 ;;
	--jobs) jobs=$2; shift ;;
	*) echo "usage: $0 [--build DIR] [--unit-only] [--qemu-only] [--jobs N]" >&2; exit 2 ;;
	esac
	shift
done
export CRASHCAP_BUILD=$build CRASHCAP_TOP=$top
logdir=$build/test-logs
rm -rf "$logdir"
mkdir -p "$logdir"

passed=0 failed=0
failures=()

# Reads one program's TAP from its log file; adds to the totals.
tally() { # name log rc
	local name=$1 log=$2 rc=$3 ok bad
	ok=$(grep -cE '^ok [0-9]+' "$log")
	bad=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		bad=1
		failures+=("$name: exited with status $rc (see $log)")
	fi
	while IFS= read -r line; do
		failures+=("$name: ${line#not ok }")
	done < <(grep -E '^not ok [0-9]+' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	printf '%-40s %3d passed, %d failed  (%ss)\n' "$name" "$ok" "$bad" "$4"
}

run_one() { # name log cmd...
	local name=$1 log=$2 start rc
	shift 2
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1 </dev/null
	rc=$?
	echo "$rc $(( $(date +%s) - start ))" >"$log.rc"
}

if [ $unit = 1 ]; then
	for t in "$build"/tests/test-*; do
		[ -x "$t" ] || continue
		name=unit/$(basename "$t")
		log=$logdir/$(basename "$t").log
		(cd "$top" && run_one "$name" "$log" "$t")
		read -r rc secs <"$log.rc"
		tally "$name" "$log" "$rc" "$secs"
	done
	for t in "$top"/tests/cli/test-*.sh; do
		[ -f "$t" ] || continue
		name=cli/$(basename "$t" .sh)
		log=$logdir/cli-$(basename "$t" .sh).log
		(cd "$top" && run_one "$name" "$log" bash "$t")
		read -r rc secs <"$log.rc"
		tally "$name" "$log" "$rc" "$secs"
	done
fi

if [ $qemu = 1 ]; then
	qtests=("$top"/tests/qemu/test-*.py)
	pids=()
	names=()
	for t in "${qtests[@]}"; do
		[ -f "$t" ] || continue
		# At most $jobs guests at once: wait for the oldest.
		while [ ${#pids[@]} -ge "$jobs" ]; do
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		done
		name=qemu/$(basename "$t" .py)
		log=$logdir/qemu-$(basename "$t" .py).log
		names+=("$name")
		(cd "$top" && run_one "$name" "$log" /usr/bin/python3 "$t") &
		pids+=($!)
	done
	wait
	for name in "${names[@]}"; do
		log=$logdir/qemu-${name#qemu/}.log
		read -r rc secs <"$log.rc"
		tally "$name" "$log" "$rc" "$secs"
		# A failing guest test explains itself: show its own words.
		if [ "$rc" != 0 ]; then
			sed 's/^/    /' "$log" | tail -n 60
		fi
	done
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
