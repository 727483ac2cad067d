#!/usr/bin/env bash
# completion/crashcapctl: what it proposes, with bash-completion's helpers
# stubbed (the package need not be installed), and that it knows every
# command crashcapctl help lists.
. tests/cli/lib.sh
check() { # desc got want
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2
want: $3"; fi
}
_init_completion() {
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
}
_filedir() { COMPREPLY=("<files${1:+ $1}>"); }
complete() { :; }
# shellcheck source=../../completion/crashcapctl
. completion/crashcapctl
complete_line() { # words...: completes the last one
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	"_${1}"
	echo "${COMPREPLY[*]}"
}

check "commands" "$(complete_line crashcapctl re)" "rebuild restart reload reserve"
check "commands after --root DIR" "$(complete_line crashcapctl --root /x s)" "status start stop showmem"
check "global options" "$(complete_line crashcapctl --c)" "--config"
check "list options" "$(complete_line crashcapctl list --)" "--json --dir --help"
check "test's flag" "$(complete_line crashcapctl test --y)" "--yes-crash-this-machine"
check "load --method" "$(complete_line crashcapctl load --method s)" "segments"
check "dmesg takes a file" "$(complete_line crashcapctl dmesg /var)" "<files>"
check "--root takes a folder" "$(complete_line crashcapctl --root /v)" "<files -d>"
check "crashcapd --hotplug-source" "$(complete_line crashcapd --hotplug-source u)" "udev"
if [ -x "$build/crashcapctl" ]; then
	listed=$("$build/crashcapctl" help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on = 0}' | sort | tr '\n' ' ')
	known=$(for c in $listed; do [[ " $(complete_line crashcapctl "") " == *" $c "* ]] && echo "$c"; done | sort | tr '\n' ' ')
	check "completion knows every command crashcapctl help lists" "$known" "$listed"
fi
cli_done
