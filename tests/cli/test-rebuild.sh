#!/usr/bin/env bash
# crashcapctl rebuild (and load, which builds its initrd the same way): each
# way the crash initramfs cannot be built gives one line that names the file,
# directory or module and says what to do. Every run passes --root (a
# fixture tree) and CRASHCAP_FAKE_SYSCALLS=1, so nothing reaches this
# machine's kernel.
. tests/cli/lib.sh
ctl=$build/crashcapctl
fixtures=tests/fixtures/roots
release=1.0-crashcap-test
moddir=tests/fixtures/modules/tree/lib/modules/$release
export CRASHCAP_FAKE_SYSCALLS=1
unset CRASHCAP_COLLECTOR

cli_tmpdir rebuild
RUN=("$ctl")
# A fresh copy of a fixture root (commands write into it).
fresh() { # name -> path
	local d=$tmp/$1.$n.$RANDOM
	cp -a "$fixtures/$1" "$d"
	echo "$d"
}
# Exit 1, exactly this one line on stderr, nothing on stdout, and no
# archive or temporary file left in the output directory.
expect_error() { # desc message
	local left
	left=$(ls -A "$tmp/out-dir")
	if [ "$rc" = 1 ] && [ "$err" = "$2" ] && [ -z "$out" ] && [ -z "$left" ]; then
		ok "$1"
	else
		not_ok "$1" "exit $rc (want 1)
want stderr: $2
got stderr:  $err
stdout: $out
left in the output directory: $left"
	fi
}

need_built "$ctl"

mkdir "$tmp/out-dir"
output=$tmp/out-dir/initrd.img
# Not ELF: stands in for the static collector (only ELF files are checked).
collector=$tmp/collector
printf '#!collector stand-in\n' >"$collector"
b=$(fresh initramfs-fake)
rebuild() { # args...
	run --root "$b" rebuild --kernel-release "$release" --output "$output" "$@"
}

rebuild --modules-dir "$moddir" --collector "$collector" --add-module nosuchmod
expect_error "an unknown --add-module is named, with where it was looked for" \
	"crashcapctl: kernel module 'nosuchmod' not found in $moddir (check the name, or run depmod)"

rebuild --modules-dir /nonexistent/modules --collector "$collector"
expect_error "a --modules-dir that does not exist" \
	"crashcapctl: kernel modules directory /nonexistent/modules does not exist: check the path, or install the kernel's modules"

rebuild --modules-dir tests/fixtures/modules --collector "$collector"
expect_error "a modules directory without modules.dep.bin" \
	"crashcapctl: no modules.dep.bin in tests/fixtures/modules: run depmod for the kernel whose modules these are"

mkdir -p "$tmp/staging/lib/modules/9.9-test"
rebuild --modules-dir "$tmp/staging/lib/modules/9.9-test" --collector "$collector"
expect_error "a staged BASE/lib/modules/RELEASE without an index: the depmod -b command" \
	"crashcapctl: no modules.dep.bin in $tmp/staging/lib/modules/9.9-test: run depmod -b $tmp/staging 9.9-test"

run --root "$b" rebuild --kernel-release 9.9-not-installed --output "$output" --collector "$collector"
expect_error "no --modules-dir and no ROOT/lib/modules/RELEASE" \
	"crashcapctl: no kernel modules for release 9.9-not-installed in $b/lib/modules/9.9-not-installed: install the kernel's modules or pass --modules-dir"

rebuild --modules-dir "$moddir" --collector /bin/ls
expect_error "a dynamically linked collector" \
	"crashcapctl: the collector /bin/ls is dynamically linked: crashcap needs the static crashcap-collect (make builds build/crashcap-collect)"

rebuild --modules-dir "$moddir" --collector "$tmp/no-collector"
expect_error "a missing collector" \
	"crashcapctl: collector $tmp/no-collector: No such file or directory: build it (make) or pass --collector PATH (or set CRASHCAP_COLLECTOR)"

run --root "$b" rebuild --kernel-release "$release" --output "$tmp/no-dir/initrd.img" \
	--modules-dir "$moddir" --collector "$collector"
expect_error "an output directory that does not exist" \
	"crashcapctl: cannot create $tmp/no-dir/initrd.img: No such file or directory"

mkdir -p "$b/etc"
printf 'path = /tmp/crash\n' >"$b/etc/crashcap.conf"
rebuild --modules-dir "$moddir" --collector "$collector"
expect_error "an unset target on tmpfs: set target =" \
	"crashcapctl: target is unset and /tmp/crash lies on tmpfs, not on a disk: set target = UUID=... in /etc/crashcap.conf"
printf 'target = vda1\n' >"$b/etc/crashcap.conf"
rebuild --modules-dir "$moddir" --collector "$collector"
expect_error "a target of no known form" \
	"crashcapctl: cannot parse target = vda1: use UUID=..., LABEL=..., PARTUUID=..., PARTLABEL=... or a /dev path"
rm "$b/etc/crashcap.conf"

# The same builder, and the same message, when load builds its own initrd.
l=$(fresh initramfs-fake)
cp -a "$fixtures/reserved/." "$l/"
echo "$release" >"$l/proc/sys/kernel/osrelease"
python3 "$fixtures/make-bzimage.py" "$l/boot/vmlinuz-$release" --release "$release"
rm -f "$l/lib/modules/$release"
run --root "$l" load --collector "$collector"
if [ "$rc" = 1 ] && [ -z "$out" ] && [ ! -e "$l/run/crashcap/fake-syscalls.log" ] &&
	[ "$err" = "crashcapctl: no kernel modules for release $release in $l/lib/modules/$release: install the kernel's modules or pass --modules-dir" ]; then
	ok "load without modules: the same message, and no syscall"
else
	not_ok "load without modules: the same message, and no syscall" "exit $rc
stderr: $err
stdout: $out"
fi

# And the archive when nothing is wrong.
rebuild --modules-dir "$moddir" --collector "$collector" --add-module fblk
if [ "$rc" = 0 ] && [ -z "$err" ] && [ -s "$output" ] &&
	echo "$out" | grep -qE "^$output \([0-9.]+ [KM]iB, 9 kernel modules\)$"; then
	ok "a good rebuild prints the archive, its size and the module count"
else
	not_ok "a good rebuild prints the archive, its size and the module count" "exit $rc
stderr: $err
stdout: $out"
fi

cli_done
