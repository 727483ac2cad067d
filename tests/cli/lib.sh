# shellcheck shell=bash disable=SC2034
# Sourced by tests/cli/test-*.sh (they run from the top dir): TAP counting
# and the helpers every CLI test had its own copy of.
#
#	. tests/cli/lib.sh
#	cli_tmpdir NAME          # $tmp, removed at exit (cli_cleanup may add to that)
#	RUN=("$ctl")             # optional: what run() runs before its arguments
#	run list --json; expect "list --json" 0 '"dumps"'
#	cli_done                 # the plan line; exits 1 when a check failed
set -u
build=${CRASHCAP_BUILD:-build}
n=0 failed=0
RUN=()

ok() { # desc
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() { # desc details
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	printf '%s\n' "$2" | sed 's/^/#   /'
}
check_eq() { # desc got want [details]
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2
want: $3${4:+
$4}"
	fi
}
skip() { # desc reason
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# Tests may define cli_cleanup (kill what they started); it runs first at exit.
cli_tmpdir() { # name
	tmp=$(mktemp -d "/tmp/crashcap-$1-XXXXXX")
	trap 'declare -F cli_cleanup >/dev/null && cli_cleanup; rm -rf "$tmp"' EXIT
}
# Runs RUN + arguments: exit status in rc, output in $tmp/out and $tmp/err (and $out, $err).
run() {
	"${RUN[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
expect() { # desc want_rc text-in-stdout-or-stderr
	if [ "$rc" = "$2" ] && grep -qF -- "$3" "$tmp/out" "$tmp/err"; then
		ok "$1"
	else
		not_ok "$1" "exit $rc (want $2); want text: $3
stdout: $out
stderr: $err"
	fi
}
expect_err_line() { # desc want_rc whole-stderr-line ("": any)
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit status $rc, expected $2; stderr: $err"
	elif [ -n "$3" ] && ! grep -qxF -- "$3" "$tmp/err"; then
		not_ok "$1" "stderr was: $err; expected the line: $3"
	else
		ok "$1"
	fi
}
need_built() { # program...: a not-ok and exit when one is missing
	local p
	for p in "$@"; do
		if [ ! -x "$p" ]; then
			not_ok "$p is built" "run make"
			cli_done
		fi
	done
}
cli_done() {
	echo "1..$n"
	[ "$failed" = 0 ] || exit 1
	exit 0
}
