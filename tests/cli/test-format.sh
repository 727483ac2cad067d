#!/usr/bin/env bash
# Every C file follows the checked-in .clang-format (kernel style).
# Prints TAP; fix a failure with `make format`.
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
for f in $(git ls-files '*.c' '*.h'); do
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		ok "clang-format: $f"
	else
		not_ok "clang-format: $f (run: make format)" ""
	fi
done
cli_done
