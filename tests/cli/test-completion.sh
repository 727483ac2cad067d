#!/usr/bin/env bash
# completion/crashcapctl: what it proposes, with bash-completion's helpers
# stubbed (the package need not be installed), and that it knows every
# command crashcapctl help lists.
. tests/cli/lib.sh
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

check_eq "commands" "$(complete_line crashcapctl re)" "rebuild restart reload reserve"
check_eq "commands after --root DIR" "$(complete_line crashcapctl --root /x s)" "status start stop showmem"
check_eq "global options" "$(complete_line crashcapctl --c)" "--config"
check_eq "list options" "$(complete_line crashcapctl list --)" "--json --dir --help"
check_eq "test's flag" "$(complete_line crashcapctl test --y)" "--yes-crash-this-machine"
check_eq "load --method" "$(complete_line crashcapctl load --method s)" "segments"
check_eq "dmesg takes a file" "$(complete_line crashcapctl dmesg /var)" "<files>"
check_eq "--root takes a folder" "$(complete_line crashcapctl --root /v)" "<files -d>"
check_eq "crashcapd --hotplug-source" "$(complete_line crashcapd --hotplug-source u)" "udev"
if [ -x "$build/crashcapctl" ]; then
	listed=$("$build/crashcapctl" help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on = 0}' | sort | tr '\n' ' ')
	known=$(for c in $listed; do [[ " $(complete_line crashcapctl "") " == *" $c "* ]] && echo "$c"; done | sort | tr '\n' ' ')
	check_eq "completion knows every command crashcapctl help lists" "$known" "$listed"
fi
cli_done
