#!/usr/bin/env bash
# crashcapctl and crashcapd against fixture roots, with the syscalls faked.
# Every run passes --root (a fixture tree) and CRASHCAP_FAKE_SYSCALLS=1: two
# guards, so no kexec call can reach this machine's kernel.
. tests/cli/lib.sh
ctl=$build/crashcapctl
daemon=$build/crashcapd
fixtures=tests/fixtures/roots
export CRASHCAP_FAKE_SYSCALLS=1
unset CRASHCAP_COLLECTOR

cli_tmpdir cli
RUN=("$ctl")
# A fresh copy of a fixture root (commands write into it).
fresh() { # name -> path
	local d=$tmp/$1.$n.$RANDOM
	cp -a "$fixtures/$1" "$d"
	echo "$d"
}
need_built "$ctl"

r=$(fresh reserved)
kernel=$r/boot/vmlinuz-6.1.0-crashcap-test
initrd=$r/var/lib/crashcap/fixture-initrd.img

# Missing kernel file.
run --root "$r" load --kernel "$r/boot/vmlinuz-missing" --initrd "$initrd"
expect "missing kernel: exit 1 and what to do" 1 \
	"crashcapctl: kernel image $r/boot/vmlinuz-missing does not exist: pass --kernel PATH or set kernel= in crashcap.conf"
mv "$kernel" "$kernel.away"
run --root "$r" load --initrd "$initrd"
expect "default kernel path is ROOT/boot/vmlinuz-RELEASE" 1 \
	"kernel image $kernel does not exist"
mv "$kernel.away" "$kernel"

# Not a kernel.
run --root "$r" load --kernel "$initrd" --initrd "$initrd"
expect "not a bzImage: ENOEXEC before the syscall" 1 \
	"$initrd is not a kernel that can be loaded: file too short to be a bzImage (under 1024 bytes) (ENOEXEC)"
python3 "$fixtures/make-bzimage.py" "$tmp/old-bz" --version 0x020a
run --root "$r" load --kernel "$tmp/old-bz" --initrd "$initrd"
expect "old boot protocol refused" 1 "boot protocol older than 2.12"
[ ! -e "$r/run/crashcap/fake-syscalls.log" ] && ok "refused loads made no syscall" ||
	not_ok "refused loads made no syscall" "$(cat "$r/run/crashcap/fake-syscalls.log")"

# No reservation.
nr=$(fresh no-reservation)
run --root "$nr" load --initrd "$nr/var/lib/crashcap/fixture-initrd.img"
expect "no reservation: the crashkernel= hint" 1 \
	"crashcapctl: no memory is reserved for a crash kernel: add crashkernel=256M to the kernel command line (see README) and reboot"
run --root "$nr" status
expect "status without reservation: not ready (3) with the hint" 3 \
	"not ready: no memory is reserved for a crash kernel: add crashkernel=256M"

# Malformed config.
run --root "$r" --config tests/fixtures/config/missing-equals.conf load --initrd "$initrd"
expect "malformed --config: file:line: message" 1 \
	"crashcapctl: tests/fixtures/config/missing-equals.conf:2: missing '='"
c=$(fresh reserved)
mkdir -p "$c/etc/crashcap.conf.d"
printf 'dump_level = 31\n' >"$c/etc/crashcap.conf"
printf '# drop-in\ncompression = xz\n' >"$c/etc/crashcap.conf.d/50-local.conf"
run --root "$c" load --initrd "$c/var/lib/crashcap/fixture-initrd.img"
expect "bad value in a drop-in: file:line: message" 1 \
	"crashcapctl: $c/etc/crashcap.conf.d/50-local.conf:2: compression must be zstd, none, zlib, lzo or snappy, got 'xz'"

# status --json parses, not loaded and loaded.
run --root "$r" status --json
if [ "$rc" = 3 ] && python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["ready"] is False and s["loaded"] is False, s
assert s["reservation"]["size"] == 256 << 20, s
assert s["reservation"]["main"]["start"] == 0x2b000000, s
assert s["reservation"]["low"] is None and s["image"] is None, s
' <"$tmp/out"; then ok "status --json (not loaded) parses, exit 3"; else not_ok "status --json (not loaded) parses, exit 3" "rc=$rc $out $err"; fi
run --root "$fixtures/loaded" status --json
if [ "$rc" = 0 ] && python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["ready"] is True and s["verdict"] == "ready: a crash kernel is loaded", s
assert s["image"]["initrd"] == "/var/lib/crashcap/initrd-6.1.0-crashcap-test.img", s
assert "swiotlb=noforce" in s["image"]["cmdline"], s
' <"$tmp/out"; then ok "status --json (loaded) parses, exit 0"; else not_ok "status --json (loaded) parses, exit 0" "rc=$rc $out $err"; fi
run --root "$fixtures/loaded" status
expect "status text names the kernel that will boot" 0 "Kernel:       /boot/vmlinuz-6.1.0-crashcap-test"

# A load that works, then status, then unload.
run --root "$r" load --initrd "$initrd" --append "crashcap.test=1"
expect "load with a fake bzImage and --initrd succeeds" 0 "crash kernel loaded: $kernel with $initrd"
log=$r/run/crashcap/fake-syscalls.log
want="kexec_file_load kernel=$(realpath "$kernel") initrd=$(realpath "$initrd") cmdline=\"console=tty0 console=ttyS0,115200n8 irqpoll nr_cpus=1 reset_devices panic=1 nousb noresume mce=off swiotlb=noforce memhp_default_state=offline cgroup.memory=nokmem initcall_blacklist=tracer_init_tracefs crashcap.test=1\" flags=KEXEC_FILE_ON_CRASH (0x2) -> 0"
if [ "$(cat "$log" 2>/dev/null)" = "$want" ]; then ok "fake log: one kexec_file_load, flags KEXEC_FILE_ON_CRASH"; else not_ok "fake log: one kexec_file_load, flags KEXEC_FILE_ON_CRASH" "got: $(cat "$log" 2>&1)
want: $want"; fi
run --root "$r" status
expect "status after load: ready, exit 0" 0 "ready: a crash kernel is loaded"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["flags"] == 2 and j["kernel"] == sys.argv[2], j' \
	"$r/run/crashcap/loaded.json" "$kernel" && ok "loaded.json records the image" ||
	not_ok "loaded.json records the image" "$(cat "$r/run/crashcap/loaded.json" 2>&1)"
run --root "$r" unload
expect "unload" 0 "crash kernel unloaded"
if tail -n1 "$log" | grep -qF 'kernel=- initrd=- cmdline="" flags=KEXEC_FILE_UNLOAD|KEXEC_FILE_ON_CRASH (0x3) -> 0' &&
	[ ! -e "$r/run/crashcap/loaded.json" ]; then ok "unload flags; loaded.json removed"; else not_ok "unload flags; loaded.json removed" "$(cat "$log")"; fi
run --root "$r" status
expect "status after unload: not ready, exit 3" 3 "not ready: no crash kernel is loaded: run crashcapctl load"

run --root "$r" load --no-initrd
if [ "$rc" = 0 ] && tail -n1 "$log" | grep -qF 'flags=KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS (0x6) -> 0'; then
	ok "--no-initrd passes KEXEC_FILE_NO_INITRAMFS"; else not_ok "--no-initrd passes KEXEC_FILE_NO_INITRAMFS" "rc=$rc $err"; fi

# Errors from the kernel, as the fixture asks for them.
mkdir -p "$r/fake"
for case in "EBUSY|another program is loading or unloading a crash kernel right now (EBUSY)" \
	"EKEYREJECTED|the signature of $kernel was rejected (EKEYREJECTED)" \
	"EADDRNOTAVAIL|the crash kernel does not fit in the reserved memory (EADDRNOTAVAIL): kernel 8.0 KiB (needs 48.0 MiB to boot) + initrd 49 B, reserved 256.0 MiB"; do
	echo "${case%%|*}" >"$r/fake/kexec_errno"
	run --root "$r" load --initrd "$initrd"
	expect "kernel error ${case%%|*} explained" 1 "${case#*|}"
done
echo '[integrity]' >"$r/sys/kernel/security/lockdown"
echo EPERM >"$r/fake/kexec_errno"
run --root "$r" load --initrd "$initrd"
expect "EPERM under lockdown names the mode" 1 "kernel lockdown is in 'integrity' mode"
rm -f "$r/fake/kexec_errno"

# Safety and usage.
run status
expect "CRASHCAP_FAKE_SYSCALLS=1 without a fixture root is refused" 1 \
	"CRASHCAP_FAKE_SYSCALLS is set: pass --root DIR with a fixture tree"
run --root "$r" frobnicate
expect "unknown command" 1 "unknown command 'frobnicate'"
run --version
expect "--version" 0 "crashcapctl "
run help
expect "help lists the commands" 0 "rebuild"
run --root "$r" rebuild --collector "$tmp/no-collector" --output "$tmp/x.img"
expect "rebuild without a collector says how to get one" 1 \
	"collector $tmp/no-collector: No such file or directory: build it (make) or pass --collector PATH"

# rebuild, and load building its own initrd, on the initramfs builder's fixture tree.
collector=$build/crashcap-collect
moddir=tests/fixtures/modules/tree/lib/modules/1.0-crashcap-test
if [ -x "$collector" ]; then
	b=$(fresh initramfs-fake)
	run --root "$b" rebuild --kernel-release 1.0-crashcap-test --modules-dir "$moddir" --collector "$collector" --output "$tmp/rebuilt.img"
	if [ "$rc" = 0 ] && [ -s "$tmp/rebuilt.img" ] &&
		echo "$out" | grep -qE "^$tmp/rebuilt.img \([0-9.]+ [KM]iB, [0-9]+ kernel modules?\)$"; then
		ok "rebuild prints the archive and its size"; else not_ok "rebuild prints the archive and its size" "rc=$rc $out $err"; fi
	cp -a "$fixtures/reserved/." "$b/"
	echo 1.0-crashcap-test >"$b/proc/sys/kernel/osrelease"
	python3 "$fixtures/make-bzimage.py" "$b/boot/vmlinuz-1.0-crashcap-test" --release 1.0-crashcap-test
	rm -f "$b/lib/modules/1.0-crashcap-test" && cp -a "$moddir" "$b/lib/modules/1.0-crashcap-test"
	run --root "$b" load --collector "$collector"
	img=$b/var/lib/crashcap/initrd-1.0-crashcap-test.img
	if [ "$rc" = 0 ] && [ -s "$img" ] && grep -qF "initrd=$(realpath "$img") " "$b/run/crashcap/fake-syscalls.log"; then
		ok "load without --initrd builds ROOT/var/lib/crashcap/initrd-RELEASE.img and loads it"; else
		not_ok "load without --initrd builds ROOT/var/lib/crashcap/initrd-RELEASE.img and loads it" "rc=$rc $out $err"; fi
else
	ok "rebuild prints the archive and its size # SKIP $collector is not built"
	ok "load without --initrd builds its initrd # SKIP $collector is not built"
fi

# crashcapd: loads, reloads on SIGHUP, unloads on SIGTERM.
d=$(fresh reserved)
printf 'initrd = /var/lib/crashcap/fixture-initrd.img\ncrash_args = crashcap.daemon=1\n' >"$d/etc.conf"
mkdir -p "$d/etc" && mv "$d/etc.conf" "$d/etc/crashcap.conf"
# A stand-in for systemd's notify socket: records each datagram on one line.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    while True:
        m = s.recv(4096).decode().replace("\n", "|")
        out.write(m + "\n")
        out.flush()
        if "STOPPING=1" in m:
            break
' "$tmp/notify.sock" "$tmp/notify.log" &
npid=$!
for _ in $(seq 1 100); do [ -S "$tmp/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$tmp/notify.sock "$daemon" --root "$d" >"$tmp/d.out" 2>"$tmp/d.err" &
pid=$!
wait_for() { # file content
	for _ in $(seq 1 100); do
		[ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
dlog=$d/run/crashcap/fake-syscalls.log
if wait_for "$d/sys/kernel/kexec_crash_loaded" 1 && grep -qF "crashcap.daemon=1\" flags=KEXEC_FILE_ON_CRASH (0x2) -> 0" "$dlog"; then
	ok "crashcapd loads at start"; else not_ok "crashcapd loads at start" "$(cat "$tmp/d.err" "$dlog" 2>&1)"; fi
kill -HUP $pid
for _ in $(seq 1 100); do [ "$(grep -c '^kexec_file_load' "$dlog")" -ge 2 ] && break; sleep 0.05; done
[ "$(grep -c 'flags=KEXEC_FILE_ON_CRASH (0x2) -> 0' "$dlog")" = 2 ] && ok "crashcapd loads again on SIGHUP" ||
	not_ok "crashcapd loads again on SIGHUP" "$(cat "$tmp/d.err" "$dlog")"
mkdir -p "$d/fake" && echo EBUSY >"$d/fake/kexec_errno"
printf 'compression = xz\n' >>"$d/etc/crashcap.conf"
kill -HUP $pid
sleep 0.3
kill -0 $pid 2>/dev/null && ok "a bad config on SIGHUP keeps crashcapd running" ||
	not_ok "a bad config on SIGHUP keeps crashcapd running" "$(cat "$tmp/d.err")"
# A reload the kernel refuses after freeing the old image: the old one goes back in.
sed -i '/compression = xz/d' "$d/etc/crashcap.conf"
printf 'ENOEXEC\n0\n' >"$d/fake/kexec_errno"
before=$(grep -c '^kexec_file_load' "$dlog")
kill -HUP $pid
for _ in $(seq 1 100); do [ "$(grep -c '^kexec_file_load' "$dlog")" -ge $((before + 2)) ] && break; sleep 0.05; done
if tail -n2 "$dlog" | head -n1 | grep -qF -- '-> -ENOEXEC' && tail -n1 "$dlog" | grep -qF 'flags=KEXEC_FILE_ON_CRASH (0x2) -> 0' &&
	[ "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1 ] && grep -qF "loaded the previous crash kernel" "$tmp/d.err"; then
	ok "crashcapd loads the previous image again when a reload fails"; else
	not_ok "crashcapd loads the previous image again when a reload fails" "$(cat "$tmp/d.err" "$dlog")"; fi
rm -f "$d/fake/kexec_errno"
kill -TERM $pid
wait $pid
drc=$?
if [ $drc = 0 ] && tail -n1 "$dlog" | grep -qF 'flags=KEXEC_FILE_UNLOAD|KEXEC_FILE_ON_CRASH (0x3) -> 0' &&
	[ "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 0 ]; then
	ok "crashcapd unloads on SIGTERM and exits 0"; else not_ok "crashcapd unloads on SIGTERM and exits 0" "rc=$drc $(cat "$tmp/d.err" "$dlog")"; fi
wait $npid
if head -n1 "$tmp/notify.log" | grep -qxF "READY=1|STATUS=crash kernel loaded: $d/boot/vmlinuz-6.1.0-crashcap-test with $d/var/lib/crashcap/fixture-initrd.img" &&
	grep -qF "RELOADING=1" "$tmp/notify.log" && grep -qF "READY=1|STATUS=reload failed; crash kernel loaded" "$tmp/notify.log" &&
	tail -n1 "$tmp/notify.log" | grep -qF "STOPPING=1"; then
	ok "crashcapd tells systemd READY=1 and STATUS=, RELOADING=1, STOPPING=1"; else
	not_ok "crashcapd tells systemd READY=1 and STATUS=, RELOADING=1, STOPPING=1" "$(cat "$tmp/notify.log")"; fi
"$daemon" --root "$nr" >"$tmp/d.out" 2>"$tmp/d.err"
drc=$?
[ $drc = 1 ] && grep -qF "no memory is reserved for a crash kernel" "$tmp/d.err" &&
	ok "crashcapd without a reservation exits 1 with the hint" ||
	not_ok "crashcapd without a reservation exits 1 with the hint" "rc=$drc $(cat "$tmp/d.err")"

cli_done
