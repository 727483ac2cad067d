#!/usr/bin/env bash
# crashcapctl estimate's budget table and reservation_shrink on fixture
# roots, with the syscalls faked (--root and CRASHCAP_FAKE_SYSCALLS=1): the
# shrink writes ROOT/sys/kernel/kexec_crash_size, never the real one.
. tests/cli/lib.sh
ctl=$build/crashcapctl
fixtures=tests/fixtures/roots
py=/usr/bin/python3
export CRASHCAP_FAKE_SYSCALLS=1
unset CRASHCAP_COLLECTOR

cli_tmpdir budget
RUN=("$ctl")
[ -x "$ctl" ] || { echo "not ok 1 - $ctl is not built"; exit 1; }
fresh() { # name -> path
	local d=$tmp/$1.$n.$RANDOM
	cp -a "$fixtures/$1" "$d"
	echo "$d"
}
MIB=1048576

r=$(fresh reserved)
initrd=$r/var/lib/crashcap/fixture-initrd.img

# --- estimate: every part with its source -------------------------------------
run --root "$r" estimate --json
if [ "$rc" = 0 ] && "$py" - "$tmp/out" <<'EOF'; then ok "estimate --json: six parts, each with a source; total and proposal"; else not_ok "estimate --json: six parts, each with a source; total and proposal" "$out $err"; fi
import json, sys
j = json.load(open(sys.argv[1]))
names = [p["name"] for p in j["parts"]]
assert names == ["crash kernel", "initramfs", "unpacked", "collector", "kernel at run", "writeback"], names
assert all(p["source"] in ("file", "loaded", "measured", "model") and p["why"] for p in j["parts"]), j
assert j["sum"] == sum(p["bytes"] for p in j["parts"]), j
assert j["total"] == -(-j["sum"] * 64 // 63), j
assert j["proposal"] % (16 << 20) == 0 and j["proposal"] >= j["total"] > j["proposal"] - (16 << 20), j
assert j["crashkernel"] == "%dM" % (j["proposal"] >> 20), j
assert j["threads"] == 1 and j["reserved"] == 256 << 20, j
EOF
run --root "$r" estimate
expect "estimate: a table with a SOURCE column" 0 "PART                 SIZE  SOURCE"
expect "... the kernel row names its file" 0 "file $r/boot/vmlinuz-6.1.0-crashcap-test"
expect "... a model row" 0 "kernel at run    16.0 MiB  model"
printf 'threads = 4\n' >"$tmp/threads.conf"
run --root "$r" --config "$tmp/threads.conf" estimate --json
expect "threads = 4: the collector's row says so" 0 "per thread (4)"
printf 'crash_cpus = 4\n' >"$tmp/cpus.conf"
run --root "$r" --config "$tmp/cpus.conf" estimate
expect "crash_cpus = 4: the kernel's row adds 3 x 1.25 MiB" 0 "kernel at run    19.8 MiB  model"
expect "... and threads = 0 is 4 collector threads" 0 "per thread (4)"
printf 'crash_cpus = 0\n' >"$tmp/bad.conf"
run --root "$r" --config "$tmp/bad.conf" estimate
expect "bad crash_cpus: file:line and the range" 1 \
	"$tmp/bad.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got '0'"
printf 'max_memory = lots\n' >"$tmp/bad.conf"
run --root "$r" --config "$tmp/bad.conf" estimate
expect "bad max_memory: file:line and what is wanted" 1 \
	"$tmp/bad.conf:1: max_memory must be a size such as 64G (0: the RAM there is now), got 'lots'"
printf 'reservation_shrink = maybe\n' >"$tmp/bad.conf"
run --root "$r" --config "$tmp/bad.conf" estimate
expect "bad reservation_shrink: file:line" 1 \
	"$tmp/bad.conf:1: reservation_shrink must be yes or no, got 'maybe'"

# --- reservation_shrink through crashcapctl load ------------------------------
# The proposal for the image the load will use (the fixture's initrd).
printf 'reservation_shrink = yes\ninitrd = /var/lib/crashcap/fixture-initrd.img\n' >"$tmp/shrink.conf"
run --root "$r" --config "$tmp/shrink.conf" estimate --json
proposal=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["proposal"])' "$tmp/out")
run --root "$r" --config "$tmp/shrink.conf" load --initrd "$initrd"
expect "load with reservation_shrink = yes: shrunk, and says it cannot grow back" 0 \
	"reservation_shrink: the crash kernel reservation shrunk from 256.0 MiB to $((proposal / MIB)).0 MiB"
expect "... cannot grow again" 0 "It cannot grow again until the next boot."
[ "$(cat "$r/sys/kernel/kexec_crash_size")" = "$proposal" ] &&
	ok "the fixture's kexec_crash_size is the proposal ($proposal)" ||
	not_ok "the fixture's kexec_crash_size is the proposal ($proposal)" "$(cat "$r/sys/kernel/kexec_crash_size")"
log=$(cat "$r/run/crashcap/fake-syscalls.log")
first=$(head -n 1 "$r/run/crashcap/fake-syscalls.log")
[ "$first" = "kexec_crash_size write $proposal (was 268435456) -> 0" ] &&
	grep -q "^kexec_file_load .*-> 0" "$r/run/crashcap/fake-syscalls.log" &&
	ok "the shrink came before the load syscall" || not_ok "the shrink came before the load syscall" "$log"

# Loaded now: a second load does not touch the reservation.
run --root "$r" --config "$tmp/shrink.conf" load --initrd "$initrd"
lines=$(grep -c "kexec_crash_size" "$r/run/crashcap/fake-syscalls.log")
[ "$rc" = 0 ] && [ "$lines" = 1 ] && ! grep -q reservation_shrink "$tmp/err" &&
	ok "a load while one is loaded: no write, no message" ||
	not_ok "a load while one is loaded: no write, no message" "rc $rc, writes $lines; $err"

# Less reserved than the budget: a warning with what to boot with, the load goes on.
r2=$(fresh reserved)
echo $((32 * MIB)) >"$r2/sys/kernel/kexec_crash_size"
run --root "$r2" --config "$tmp/shrink.conf" load --initrd "$r2/var/lib/crashcap/fixture-initrd.img"
expect "less than the budget: cannot grow, boot with the proposal" 0 \
	"reservation_shrink: the reservation (32.0 MiB) is less than the budget"
[ "$(cat "$r2/sys/kernel/kexec_crash_size")" = $((32 * MIB)) ] &&
	! grep -q kexec_crash_size "$r2/run/crashcap/fake-syscalls.log" &&
	ok "... and nothing was written" || not_ok "... and nothing was written" "$(cat "$r2/run/crashcap/fake-syscalls.log")"

# Off (the default): nothing.
r3=$(fresh reserved)
run --root "$r3" load --initrd "$r3/var/lib/crashcap/fixture-initrd.img"
[ "$rc" = 0 ] && [ "$(cat "$r3/sys/kernel/kexec_crash_size")" = 268435456 ] &&
	ok "reservation_shrink off: the reservation stays" || not_ok "reservation_shrink off: the reservation stays" "$err"

# --- crashcapd: the same at start ---------------------------------------------
daemon=$build/crashcapd
if [ -x "$daemon" ]; then
	r4=$(fresh reserved)
	"$daemon" --root "$r4" --config "$tmp/shrink.conf" --test-uevent-socket "$r4/uevents.sock" \
		>"$r4/d.out" 2>"$r4/d.err" &
	dpid=$!
	cli_cleanup() { kill "$dpid" 2>/dev/null; }
	for i in $(seq 100); do
		[ "$(cat "$r4/sys/kernel/kexec_crash_loaded")" = 1 ] && break
		sleep 0.1
	done
	kill -TERM "$dpid"
	wait "$dpid"
	[ "$(cat "$r4/sys/kernel/kexec_crash_size")" = "$proposal" ] &&
		grep -q "reservation_shrink: the crash kernel reservation shrunk from 256.0 MiB to $((proposal / MIB)).0 MiB" "$r4/d.err" &&
		[ "$(head -n 1 "$r4/run/crashcap/fake-syscalls.log")" = "kexec_crash_size write $proposal (was 268435456) -> 0" ] &&
		ok "crashcapd with reservation_shrink = yes: shrunk at start, before its load" ||
		not_ok "crashcapd with reservation_shrink = yes: shrunk at start, before its load" \
			"$(cat "$r4/d.err" "$r4/run/crashcap/fake-syscalls.log" 2>&1)"
else
	skip "crashcapd with reservation_shrink = yes" "$daemon is not built"
fi

cli_done
