#!/usr/bin/env bash
# crashcapctl load --method auto|file|segments and --reboot-kernel on a
# fixture root with the syscalls faked (--root and CRASHCAP_FAKE_SYSCALLS=1:
# no kexec call can reach this machine's kernel). The root is the "reserved"
# fixture with the QEMU guest's memory map, crash notes, VMCOREINFO and
# /proc/kcore (tests/fixtures/kexec/qemu-1g), which kexec_load needs.
. tests/cli/lib.sh
ctl=$build/crashcapctl
fixtures=tests/fixtures/roots
export CRASHCAP_FAKE_SYSCALLS=1
unset CRASHCAP_COLLECTOR

cli_tmpdir method
RUN=("$ctl")
check() { # desc condition-status details
	if [ "$2" = 0 ]; then ok "$1"; else not_ok "$1" "$3"; fi
}
# A fresh root that kexec_load can be built for.
fresh() {
	local d=$tmp/root.$n.$RANDOM f
	cp -a "$fixtures/reserved" "$d"
	for f in proc/iomem proc/kcore sys/kernel/vmcoreinfo sys/kernel/boot_params/data \
		sys/devices/system/cpu/possible sys/devices/system/cpu/cpu0/crash_notes \
		sys/devices/system/cpu/cpu0/crash_notes_size sys/devices/system/cpu/cpu1/crash_notes \
		sys/devices/system/cpu/cpu1/crash_notes_size; do
		mkdir -p "$(dirname "$d/$f")"
		cp tests/fixtures/kexec/qemu-1g/$f "$d/$f"
	done
	echo 0 >"$d/sys/kernel/kexec_loaded"
	# The guest pages with 5 levels: the kernel must be able to start there (XLF_5LEVEL).
	python3 "$fixtures/make-bzimage.py" "$d/boot/vmlinuz-6.1.0-crashcap-test" --xloadflags 0x23
	echo "$d"
}
log_of() { cat "$1/run/crashcap/fake-syscalls.log" 2>/dev/null; }
json() { # file python-expression-on-j
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

need_built "$ctl"
segline='kexec_load entry=0x23203000 nr_segments=5 flags=KEXEC_ON_CRASH|KEXEC_ARCH_X86_64 (0x3e0001) -> 0'

# --method segments: kexec_load only, five segments in the reserved range.
r=$(fresh)
initrd=$r/var/lib/crashcap/fixture-initrd.img
kernel=$r/boot/vmlinuz-6.1.0-crashcap-test
run --root "$r" load --method segments --initrd "$initrd"
expect "--method segments loads and says so" 0 \
	"crash kernel loaded: $kernel with $initrd (49 B), 256.0 MiB reserved; method: segments (kexec_load)"
l=$(log_of "$r")
check "fake log: one kexec_load with KEXEC_ON_CRASH, no kexec_file_load" \
	"$([ "$(echo "$l" | head -n1)" = "$segline" ] && ! grep -q kexec_file_load <<<"$l"; echo $?)" "$l"
check "fake log: the five segments, elfcorehdr first at the range's start" \
	"$([ "$(grep -c '^  segment' <<<"$l")" = 5 ] && grep -qx '  segment 0: bufsz=0x190 mem=0x20000000 memsz=0x1000' <<<"$l"; echo $?)" "$l"
json "$r/run/crashcap/loaded.json" 'j["method"] == "segments" and j["flags"] == 0x3e0001'
check "loaded.json: method segments, kexec_load flags" $? "$(cat "$r/run/crashcap/loaded.json")"
run --root "$r" status --json
check "status --json: image.method is segments" \
	"$(python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s["image"]["method"] == "segments" and s["loaded"] else 1)' <"$tmp/out"; echo $?)" "$out $err"
run --root "$r" status
expect "status: Method: segments (kexec_load)" 0 "Method:       segments (kexec_load)"

# load_method in crashcap.conf; --method wins over it.
c=$(fresh)
mkdir -p "$c/etc" && printf 'load_method = segments\n' >"$c/etc/crashcap.conf"
run --root "$c" load --initrd "$c/var/lib/crashcap/fixture-initrd.img"
expect "load_method = segments in crashcap.conf" 0 "method: segments (kexec_load)"
run --root "$c" load --method file --initrd "$c/var/lib/crashcap/fixture-initrd.img"
expect "--method file overrides load_method" 0 "method: file (kexec_file_load)"
check "fake log: kexec_load, then kexec_file_load" \
	"$(log_of "$c" | grep -E '^kexec' | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'kexec_load kexec_file_load '; echo $?)" "$(log_of "$c")"
run --root "$c" load --method fast
expect "--method with a bad value" 1 "load: --method must be auto, file or segments, got 'fast'"

# auto: kexec_file_load first; kexec_load after ENOEXEC or ENOSYS.
for e in ENOEXEC ENOSYS; do
	a=$(fresh)
	mkdir -p "$a/fake" && printf '%s\n0\n' $e >"$a/fake/kexec_errno"
	run --root "$a" load --initrd "$a/var/lib/crashcap/fixture-initrd.img"
	expect "auto: kexec_file_load $e, falls back and says so" 0 \
		"method: segments (kexec_load), because kexec_file_load refused it ($e)"
	l=$(log_of "$a")
	check "auto after $e: the log has kexec_file_load -> -$e, then kexec_load -> 0" \
		"$(grep -qF -- "-> -$e" <<<"$(echo "$l" | head -n1)" && grep -qxF "$segline" <<<"$l"; echo $?)" "$l"
	check "auto after $e: the crash kernel is loaded" "$([ "$(cat "$a/sys/kernel/kexec_crash_loaded")" = 1 ]; echo $?)" ""
done

# auto: an image only kexec_load takes: kexec_file_load is not even tried.
a=$(fresh)
python3 "$fixtures/make-bzimage.py" "$a/boot/vmlinuz-6.1.0-crashcap-test" --xloadflags 0x21
run --root "$a" load --initrd "$a/var/lib/crashcap/fixture-initrd.img"
expect "auto: no XLF_CAN_BE_LOADED_ABOVE_4G: segments, and why" 0 \
	"method: segments (kexec_load), because kexec_file_load takes only images that can be loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not set)"
check "that image: no kexec_file_load call" "$(! log_of "$a" | grep -q kexec_file_load; echo $?)" "$(log_of "$a")"
run --root "$a" load --method file --initrd "$a/var/lib/crashcap/fixture-initrd.img"
expect "--method file refuses that image before the syscall" 1 \
	"cannot be loaded with load_method = file: kexec_file_load takes only images that can be loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not set): use load_method = segments or auto"

# auto never falls back after EPERM (lockdown) or a signature error.
a=$(fresh)
mkdir -p "$a/fake"
echo '[integrity]' >"$a/sys/kernel/security/lockdown"
echo EPERM >"$a/fake/kexec_errno"
run --root "$a" load --initrd "$a/var/lib/crashcap/fixture-initrd.img"
expect "auto + EPERM under lockdown: explained, stops" 1 "kernel lockdown is in 'integrity' mode (Secure Boot)"
echo EKEYREJECTED >"$a/fake/kexec_errno"
run --root "$a" load --initrd "$a/var/lib/crashcap/fixture-initrd.img"
expect "auto + EKEYREJECTED: the signature policy, stops" 1 "the signature of $a/boot/vmlinuz-6.1.0-crashcap-test was rejected (EKEYREJECTED)"
check "auto after EPERM and EKEYREJECTED: never kexec_load" "$(! log_of "$a" | grep -q '^kexec_load'; echo $?)" "$(log_of "$a")"
echo EPERM >"$a/fake/kexec_errno"
run --root "$a" load --method segments --initrd "$a/var/lib/crashcap/fixture-initrd.img"
expect "--method segments under lockdown: kexec_load is not allowed, use file" 1 \
	"the kernel refused kexec_load (EPERM): kernel lockdown is in 'integrity' mode (Secure Boot), which allows only kexec_file_load of a signed kernel"

# The kexec reboot kernel: no KEXEC_ON_CRASH, the running command line, loaded.json untouched.
b=$(fresh)
run --root "$b" load --reboot-kernel --method segments --append "x=1"
expect "--reboot-kernel --method segments" 0 \
	"reboot kernel loaded: $b/boot/vmlinuz-6.1.0-crashcap-test without an initrd; method: segments (kexec_load); systemctl kexec boots it"
l=$(log_of "$b")
check "reboot kernel: kexec_load without KEXEC_ON_CRASH, 3 segments (no initrd)" \
	"$(echo "$l" | head -n1 | grep -qE '^kexec_load entry=0x[0-9a-f]+ nr_segments=3 flags=0\|KEXEC_ARCH_X86_64 \(0x3e0000\) -> 0$'; echo $?)" "$l"
check "reboot kernel: kexec_loaded is 1, kexec_crash_loaded still 0, no loaded.json" \
	"$([ "$(cat "$b/sys/kernel/kexec_loaded")" = 1 ] && [ "$(cat "$b/sys/kernel/kexec_crash_loaded")" = 0 ] && [ ! -e "$b/run/crashcap/loaded.json" ]; echo $?)" ""
printf 'initrd' >"$b/boot/initrd.img-6.1.0-crashcap-test"
run --root "$b" load --reboot-kernel --method file --append "x=1"
expect "--reboot-kernel --method file takes /boot/initrd.img-RELEASE" 0 \
	"reboot kernel loaded: $b/boot/vmlinuz-6.1.0-crashcap-test with $b/boot/initrd.img-6.1.0-crashcap-test (6 B); method: file (kexec_file_load)"
check "reboot kernel by file: the running command line without BOOT_IMAGE=, flags 0" \
	"$(log_of "$b" | tail -n1 | grep -qF 'cmdline="root=UUID=5e1c4b2a-9f3d-4c8e-b7a6-0d2f1e3c4b5a ro console=tty0 console=ttyS0,115200n8 crashkernel=256M quiet x=1" flags=0 (0x0) -> 0'; echo $?)" "$(log_of "$b" | tail -n1)"
run --root "$b" unload --reboot-kernel
expect "unload --reboot-kernel" 0 "reboot kernel unloaded"
check "unload --reboot-kernel: KEXEC_FILE_UNLOAD without ON_CRASH; kexec_loaded 0" \
	"$(log_of "$b" | tail -n1 | grep -qF 'flags=KEXEC_FILE_UNLOAD (0x1) -> 0' && [ "$(cat "$b/sys/kernel/kexec_loaded")" = 0 ]; echo $?)" "$(log_of "$b" | tail -n1)"
run --root "$b" load --reboot-kernel --collector /x
expect "--reboot-kernel with --collector is refused" 1 "--collector is for the crash initrd, not with --reboot-kernel"

# A kernel without kexec_file_load: unload goes through kexec_load.
u=$(fresh)
run --root "$u" load --method segments --initrd "$u/var/lib/crashcap/fixture-initrd.img"
mkdir -p "$u/fake" && printf 'ENOSYS\n0\n' >"$u/fake/kexec_errno"
run --root "$u" unload
expect "unload without kexec_file_load" 0 "crash kernel unloaded"
check "unload: kexec_load with no segments, KEXEC_ON_CRASH; nothing loaded" \
	"$(log_of "$u" | tail -n1 | grep -qF 'kexec_load entry=0x0 nr_segments=0 flags=KEXEC_ON_CRASH (0x1) -> 0' && [ "$(cat "$u/sys/kernel/kexec_crash_loaded")" = 0 ]; echo $?)" "$(log_of "$u")"

cli_done
