#!/usr/bin/env bash
# Every C file follows the checked-in .clang-format (kernel style).
# Prints TAP; fix a failure with `make format`.
set -u
cd "$(dirname "$0")/../.."
n=0 bad=0
for f in $(git ls-files '*.c' '*.h'); do
	n=$((n + 1))
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "ok $n - clang-format: $f"
	else
		echo "not ok $n - clang-format: $f (run: make format)"
		bad=$((bad + 1))
	fi
done
echo "1..$n"
[ $bad = 0 ]
