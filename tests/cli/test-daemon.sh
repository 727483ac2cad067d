#!/usr/bin/env bash
# crashcapd on fixture roots with faked syscalls: hotplug bursts through a
# test uevent socket (debounce, crash_hotplug), reloads (bad settings, a
# failed syscall and its fallback), the crash initramfs manifest, retention
# at start, keep_loaded_on_stop. Every run passes --root (a fixture tree)
# and CRASHCAP_FAKE_SYSCALLS=1: no kexec call can reach this machine's kernel.
. tests/cli/lib.sh
py=${PYTHON:-/usr/bin/python3}
daemon=$build/crashcapd
ctl=$build/crashcapctl
fixtures=tests/fixtures/roots
export CRASHCAP_FAKE_SYSCALLS=1
unset CRASHCAP_COLLECTOR NOTIFY_SOCKET

pids=()
cli_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
}
cli_tmpdir daemon

check() { # desc diag command...
	local desc=$1 diag=$2
	shift 2
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		printf '%s\n' "$(eval "echo \"$diag\"")" | sed 's/^/#   /'
	fi
}
# Waits up to 10 s for a shell condition (evaluated each time) to hold.
wait_until() {
	for _ in $(seq 1 200); do eval "$1" && return 0; sleep 0.05; done
	return 1
}
# A value from ROOT/run/crashcap/daemon.json.
state() { # root key
	"$py" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' \
		"$1/run/crashcap/daemon.json" "$2" 2>/dev/null
}
loads() { grep -c '^kexec_file_load .*KEXEC_FILE_ON_CRASH (0x2)' "$1/run/crashcap/fake-syscalls.log" 2>/dev/null || echo 0; }
calls() { grep -c '^kexec' "$1/run/crashcap/fake-syscalls.log" 2>/dev/null || echo 0; }
# Sends count kernel-format uevents, one every interval seconds.
uevents() { # socket subsystem action count interval [first]
	"$py" - "$@" <<'PY'
import socket, sys, time
path, sub, action, count, interval = sys.argv[1:6]
first = int(sys.argv[6]) if len(sys.argv) > 6 else 32
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(int(count)):
    dev = f"/devices/system/{sub}/{sub}{first + i}"
    msg = f"{action}@{dev}\0ACTION={action}\0DEVPATH={dev}\0SUBSYSTEM={sub}\0SEQNUM={1000 + i}\0"
    s.sendto(msg.encode(), path)
    if i == 0:
        open(path + ".first-sent", "w").close()
    time.sleep(float(interval))
PY
}
# A stand-in for systemd's notify socket: one line per datagram, newlines as |.
notify_listener() { # socket log
	"$py" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as out:
    while True:
        m = s.recv(4096).decode().replace("\n", "|")
        out.write(m + "\n")
        out.flush()
        if "STOPPING=1" in m:
            break
' "$1" "$2" &
	pids+=($!)
	wait_until 'test -S "$1"'
}
fresh() { # fixture names... -> a new root made of them, later ones over earlier
	local d=$tmp/root.$n.$RANDOM
	mkdir -p "$d"
	for f in "$@"; do cp -a "$fixtures/$f/." "$d/"; done
	echo "$d"
}
start_daemon() { # root [args...]
	local root=$1
	shift
	NOTIFY_SOCKET=$tmp/notify.sock "$daemon" --root "$root" --test-uevent-socket "$root/uevents.sock" "$@" \
		>"$root/d.out" 2>"$root/d.err" &
	dpid=$!
	pids+=($dpid)
	wait_until 'test -S "$root/uevents.sock"'
	wait_until 'test "$(state "$root" loaded)" = true'
}
stop_daemon() {
	kill -TERM "$dpid"
	wait "$dpid"
	drc=$?
}

need_built "$daemon"

# --- hotplug bursts ---------------------------------------------------------
d=$(fresh reserved daemon-hotplug)
rm -f "$tmp/notify.sock"
notify_listener "$tmp/notify.sock" "$tmp/notify.log"
start_daemon "$d"
check "crashcapd loads at start; daemon.json says so" '$(cat $d/d.err)' \
	test "$(loads "$d")" = 1 -a "$(state "$d" loaded)" = true -a "$(state "$d" hotplug_source)" = "test socket $d/uevents.sock"
check "no reload yet: no gap measured" '$(cat $d/run/crashcap/daemon.json)' test "$(state "$d" last_gap_usec)" = null

# Memory the fixture's kernel "hot-added": one more 128 MiB System RAM range.
blocks=0
add_ram() { # root
	local start=$((0x180000000 + blocks * 0x8000000))
	printf '%x-%x : System RAM\n' $start $((start + 0x7ffffff)) >>"$1/proc/iomem"
	blocks=$((blocks + 1))
}

# 32 memory-block events within one second (4 blocks added): one reload after the quiet period.
for i in 1 2 3 4; do add_ram "$d"; done
uevents "$d/uevents.sock" memory add 32 0.03
wait_until 'test "$(state "$d" hotplug_bursts)" = 1'
check "32 memory events in a second: exactly one reload" '$(cat $d/run/crashcap/fake-syscalls.log; cat $d/d.err)' \
	test "$(loads "$d")" = 2 -a "$(state "$d" hotplug_events)" = 32 -a "$(state "$d" hotplug_reloads)" = 1
check "the reload's time without a crash kernel is measured and logged" '$(cat $d/d.err)' \
	grep -qE "reload \(memory hotplug, 32 events\): crash kernel loaded: .*; without a crash kernel for [0-9]+\.[0-9] ms" "$d/d.err"
gap=$(state "$d" last_gap_usec)
check "daemon.json has the gap ($gap us)" '$(cat $d/run/crashcap/daemon.json)' test "$gap" != null -a "${gap:-x}" -ge 0 2>/dev/null
echo "# reload gap with faked syscalls: ${gap} us"
check "still loaded after the burst" '' test "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1

# The blocks onlined: RAM ranges as they were at the load, so no reload.
uevents "$d/uevents.sock" memory online 4 0.01
wait_until 'test "$(state "$d" hotplug_bursts)" = 2'
check "online events, RAM ranges unchanged since the load: no reload" '$(cat $d/d.err)' \
	test "$(loads "$d")" = 2 -a "$(state "$d" hotplug_unchanged)" = 1
check "... and the log says why" '$(cat $d/d.err)' \
	grep -qF "memory hotplug (4 events): RAM ranges and present CPUs are as the loaded crash image has them: no reload" "$d/d.err"
# A block removed, in a burst of its own: one reload.
sed -i '$d' "$d/proc/iomem"
uevents "$d/uevents.sock" memory remove 2 0.01
wait_until 'test "$(state "$d" hotplug_bursts)" = 3'
check "a block removed: one more reload" '$(cat $d/run/crashcap/fake-syscalls.log)' test "$(loads "$d")" = 3

# Events that do not change what a dump covers never start a burst.
uevents "$d/uevents.sock" memory change 5 0.01
uevents "$d/uevents.sock" block add 5 0.01
sleep 1
check "change events and other subsystems: no burst, no reload" '$(cat $d/run/crashcap/daemon.json)' \
	test "$(loads "$d")" = 3 -a "$(state "$d" hotplug_events)" = 38 -a "$(state "$d" hotplug_bursts)" = 3

# A steady stream longer than hotplug_max_delay is not held off for ever.
add_ram "$d"
rm -f "$d/uevents.sock.first-sent"
uevents "$d/uevents.sock" memory add 60 0.1 &
spid=$!
wait_until 'test -e "$d/uevents.sock.first-sent"'
sleep 5.3
check "a stream of events reloads by hotplug_max_delay (5 s), before it ends" '$(cat $d/run/crashcap/daemon.json)' \
	test "$(loads "$d")" = 4
add_ram "$d"
wait $spid
wait_until 'test "$(state "$d" hotplug_bursts)" = 5'
check "the 6 s stream: two reloads (one at 5 s, one after)" '$(cat $d/run/crashcap/daemon.json)' test "$(loads "$d")" = 5

# The kernel keeps the image current itself (crash_hotplug = 1): no reload.
echo 1 >"$d/sys/devices/system/memory/crash_hotplug"
add_ram "$d"
uevents "$d/uevents.sock" memory add 32 0.01
wait_until 'test "$(state "$d" hotplug_bursts)" = 6'
check "crash_hotplug = 1: a memory burst makes no syscall" '$(cat $d/d.err)' \
	test "$(calls "$d")" = 5 -a "$(state "$d" hotplug_kernel_updated)" = 1
check "and says why" '$(cat $d/d.err)' grep -qF "memory hotplug (32 events): the kernel keeps the loaded crash image current itself (crash_hotplug = 1): no reload" "$d/d.err"
# ... but CPU hotplug with cpu/crash_hotplug = 0 still reloads.
echo 0-4 >"$d/sys/devices/system/cpu/present"
uevents "$d/uevents.sock" cpu add 1 0 4
wait_until 'test "$(state "$d" hotplug_bursts)" = 7'
check "a CPU added while cpu/crash_hotplug reads 0: one reload" '$(cat $d/d.err)' test "$(loads "$d")" = 6

# --- reloads ------------------------------------------------------------------
before=$(calls "$d")
cp "$d/etc/crashcap.conf" "$tmp/good.conf"
printf 'hotplug_quiet = soon\n' >>"$d/etc/crashcap.conf"
kill -HUP "$dpid"
wait_until 'grep -qF "hotplug_quiet must be a time" "$tmp/notify.log"'
check "SIGHUP with a bad setting: file:line in the log" '$(cat $d/d.err)' \
	grep -qF "crashcapd: $d/etc/crashcap.conf:7: hotplug_quiet must be a time from 0 to 1h such as 500ms, 2s or 1min, got 'soon'" "$d/d.err"
check "... and in systemd's STATUS=, with READY=1 again" '$(cat $tmp/notify.log)' \
	grep -qF "READY=1|STATUS=reload failed: $d/etc/crashcap.conf:7: hotplug_quiet must be" "$tmp/notify.log"
check "... no syscall, the old image stays loaded" '$(cat $d/run/crashcap/fake-syscalls.log)' \
	test "$(calls "$d")" = "$before" -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1
check "... daemon.json names the error" '' test "$(state "$d" settings_error)" != null
cp "$tmp/good.conf" "$d/etc/crashcap.conf"

# A reload the kernel refuses after freeing the old image: the last good one goes back.
mkdir -p "$d/fake" && printf 'ENOEXEC\n0\n' >"$d/fake/kexec_errno"
kill -HUP "$dpid"
wait_until 'test "$(state "$d" fallbacks)" = 1'
check "a failed reload syscall: the previous image is loaded again at once" '$(cat $d/d.err; tail -n3 $d/run/crashcap/fake-syscalls.log)' \
	test "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1 -a "$(tail -n1 "$d/run/crashcap/fake-syscalls.log" | grep -c -- '-> 0$')" = 1
check "... and both are logged" '$(cat $d/d.err)' \
	grep -qE "reload \(SIGHUP\): loaded the previous crash kernel .* again; without a crash kernel for [0-9.]+ ms" "$d/d.err"
# Both the reload and the fallback fail: no crash kernel, said plainly.
printf 'ENOEXEC\nENOEXEC\n0\n' >"$d/fake/kexec_errno"
kill -HUP "$dpid"
wait_until 'test "$(state "$d" loaded)" = false'
check "reload and fallback both fail: not loaded, and the log says so" '$(cat $d/d.err)' \
	grep -qF "loading the previous crash kernel $d/boot/vmlinuz-6.1.0-crashcap-test again failed too" "$d/d.err"
rm -f "$d/fake/kexec_errno"
kill -HUP "$dpid"
wait_until 'test "$(state "$d" loaded)" = true'
check "the next good reload loads again" '' test "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1
stop_daemon
check "SIGTERM: unloaded, exit 0" '$(tail -n2 $d/run/crashcap/fake-syscalls.log)' \
	test "$drc" = 0 -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 0 -a ! -e "$d/run/crashcap/daemon.json"
wait "${pids[0]}" 2>/dev/null
check "STOPPING=1 last" '$(cat $tmp/notify.log)' test "$(tail -n1 "$tmp/notify.log" | grep -c STOPPING=1)" = 1

# keep_loaded_on_stop = yes: stopping leaves it loaded.
d=$(fresh reserved daemon-hotplug)
echo "keep_loaded_on_stop = yes" >>"$d/etc/crashcap.conf"
start_daemon "$d"
stop_daemon
check "keep_loaded_on_stop = yes: no unload on SIGTERM" '$(cat $d/run/crashcap/fake-syscalls.log)' \
	test "$drc" = 0 -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1 -a "$(calls "$d")" = 1
# ... and the next start adopts it: a failing load then puts it back.
mkdir -p "$d/fake" && printf 'ENOEXEC\n0\n' >"$d/fake/kexec_errno"
start_daemon "$d"
check "a start whose load fails puts the image crashcap loaded before back, and runs" '$(cat $d/d.err)' \
	grep -qF "start: loaded the previous crash kernel" "$d/d.err"
stop_daemon
check "... until SIGTERM (exit 0)" '$(cat $d/d.err)' test "$drc" = 0

# --- retention at start --------------------------------------------------------
d=$(fresh reserved daemon-hotplug daemon-dumps)
printf 'target = LABEL=crashdump\npath = /\nkeep_dumps = 2\n' >>"$d/etc/crashcap.conf"
start_daemon "$d"
left=$(ls "$d/mnt/dumps/crashcap" | sort | tr '\n' ' ')
check "retention at start: keep_dumps = 2 keeps the newest complete and the newest dump" '$(cat $d/d.err)' \
	test "$left" = "2025-03-12-10:00:00-6.1.0-18-amd64 2025-05-01-00:00:00-6.12.9-amd64 2025-13-45-99:99:99-bad lost+found notes.txt "
check "retention logs what it removed" '$(cat $d/d.err)' \
	grep -qF "retention: removed 4 dumps" "$d/d.err"
stop_daemon

# --- analysis.json for every dump, after the load --------------------------------
d=$(fresh reserved daemon-hotplug daemon-dumps)
printf 'target = LABEL=crashdump\npath = /\n' >>"$d/etc/crashcap.conf"
dumps=$d/mnt/dumps/crashcap
# A small x86_64 ELF vmcore (no kallsyms in its VMCOREINFO): a report with the gaps named.
synth_vmcore() { # path
	"$py" tests/cli/mkcore.py --release 6.1.0-daemon "$1" 0 2
}
real=$dumps/2025-01-10-08:00:00-6.1.0-13-amd64
synth_vmcore "$real/vmcore"
analyzed() { # the dump folders with a vmcore that have analysis.json
	local n=0 f
	for f in "$dumps"/*/vmcore "$dumps"/*/vmcore.incomplete; do
		[ -e "$(dirname "$f")/analysis.json" ] && n=$((n + 1))
	done
	echo $n
}
start_daemon "$d"
wait_until 'test "$(analyzed)" = 5'
check "at start, after the load: analysis.json in each of the 5 dump folders with a vmcore" '$(analyzed) $(cat $d/d.err)' \
	test "$(analyzed)" = 5 -a ! -e "$dumps/2025-03-12-10:00:00-6.1.0-18-amd64-2/analysis.json"
check "the crash kernel was loaded before any dump was analyzed" '$(cat $d/d.err)' \
	test "$(grep -nE 'crash kernel loaded|analysis.json written|analysis failed' "$d/d.err" | head -n1 | grep -c 'crash kernel loaded')" = 1
check "a dump: its report (mode 0600)" '$(cat $real/analysis.json)' \
	"$py" -c 'import json,os,sys; j=json.load(open(sys.argv[1])); assert j["system"]["release"] == "6.1.0-daemon" and j["symbols_error"], j; assert os.stat(sys.argv[1]).st_mode & 0o777 == 0o600' "$real/analysis.json"
bad=$dumps/2025-03-12-10:00:00-6.1.0-18-amd64
check "a file that is no dump: analysis.json with the error, logged" '$(cat $bad/analysis.json; cat $d/d.err)' \
	"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j == {"version": 1, "dump": "2025-03-12-10:00:00-6.1.0-18-amd64", "error": "analysis failed: Exec format error"}, j' "$bad/analysis.json"
new=$dumps/2026-01-01-00:00:00-6.1.0-daemon
mkdir "$new.tmp" && synth_vmcore "$new.tmp/vmcore" && echo '{"result": "ok"}' >"$new.tmp/summary.json"
mv "$new.tmp" "$new"
wait_until 'test -e "$new/analysis.json"'
check "a dump that appears while it runs: analyzed" '$(cat $d/d.err)' test -e "$new/analysis.json"
written=$(grep -c 'analysis.json written' "$d/d.err")
errors=$(grep -c 'analysis failed' "$d/d.err")
touch "$bad/vmcore" "$dumps/notes.txt"
kill -HUP "$dpid"
wait_until 'test "$(state "$d" reloads)" = 1'
sleep 2.5
check "nothing analyzed twice (after a reload and touched files)" '$(cat $d/d.err)' \
	test "$(grep -c 'analysis.json written' "$d/d.err")" = "$written" -a "$(grep -c 'analysis failed' "$d/d.err")" = "$errors" -a "$written" = 2
run_list() { "$ctl" --root "$d" list >"$tmp/out" 2>"$tmp/err"; }
run_list
check "list: a report without a panic message keeps summary.json's panic line" '$(cat $tmp/out)' \
	test "$(grep -c '^2025-01-10 08:00:00 .* complete  *sysrq triggered crash$' "$tmp/out")" = 1
stop_daemon
check "SIGTERM after analyzing: exit 0" '$(cat $d/d.err)' test "$drc" = 0

# --- the crash initramfs manifest --------------------------------------------
collector=$build/crashcap-collect
moddir=tests/fixtures/modules/tree/lib/modules/1.0-crashcap-test
if [ -x "$collector" ]; then
	d=$(fresh initramfs-fake reserved daemon-hotplug)
	echo 1.0-crashcap-test >"$d/proc/sys/kernel/osrelease"
	"$py" "$fixtures/make-bzimage.py" "$d/boot/vmlinuz-1.0-crashcap-test" --release 1.0-crashcap-test
	rm -rf "$d/lib/modules/1.0-crashcap-test" && mkdir -p "$d/lib/modules" && cp -a "$moddir" "$d/lib/modules/1.0-crashcap-test"
	sed -i '/^initrd =/d' "$d/etc/crashcap.conf"
	cp "$collector" "$tmp/collector"
	img=$d/var/lib/crashcap/initrd-1.0-crashcap-test.img
	start_daemon "$d" --collector "$tmp/collector"
	check "no initrd yet: built at start, with its manifest, and loaded" '$(cat $d/d.err)' \
		test -s "$img" -a -s "$img.manifest" -a ! -e "$img.new" -a "$(state "$d" initrd_builds)" = 1
	# Built beside the one of the loaded image, renamed into its place once loaded.
	check "the load used the newly built initramfs, renamed into place after" '$(cat $d/run/crashcap/fake-syscalls.log)' \
		grep -qF "initrd=$(realpath "$img").new " "$d/run/crashcap/fake-syscalls.log"
	check "the manifest lists kernel, collector, settings, modules, version" '$(cat $img.manifest)' \
		test "$(grep -cE '^(kernel|collector|settings|modules|version) [0-9a-f]{64}$' "$img.manifest")" = 5
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" reloads)" = 1'
	check "SIGHUP with nothing changed: no rebuild" '$(cat $d/d.err)' \
		test "$(state "$d" initrd_builds)" = 1 -a "$(grep -c 'is up to date' "$d/d.err")" = 1
	echo "dump_level = 1" >>"$d/etc/crashcap.conf"
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" reloads)" = 2'
	check "a changed setting: built again" '$(cat $d/d.err)' \
		grep -qF "building the crash initramfs again: its settings changed" "$d/d.err"
	printf 'x' >>"$tmp/collector"
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" reloads)" = 3'
	check "a changed collector: built again" '$(cat $d/d.err)' \
		grep -qF "building the crash initramfs again: its collector changed" "$d/d.err"
	echo "# changed" >>"$d/lib/modules/1.0-crashcap-test/modules.dep"
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" reloads)" = 4'
	check "changed modules: built again" '$(cat $d/d.err)' \
		grep -qF "building the crash initramfs again: its modules changed" "$d/d.err"
	printf 'x' >>"$d/boot/vmlinuz-1.0-crashcap-test"
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" reloads)" = 5'
	check "a changed kernel: built again" '$(cat $d/d.err)' \
		grep -qF "building the crash initramfs again: its kernel changed" "$d/d.err"
	check "five builds in all" '$(cat $d/run/crashcap/daemon.json)' test "$(state "$d" initrd_builds)" = 5
	# A build that fails: the loaded image stays, no syscall.
	before=$(calls "$d")
	rm -f "$tmp/collector"
	echo "dump_level = 2" >>"$d/etc/crashcap.conf"
	kill -HUP "$dpid"
	wait_until 'test "$(state "$d" failed_reloads)" = 1'
	check "a build that fails: no syscall, still loaded" '$(cat $d/d.err)' \
		test "$(calls "$d")" = "$before" -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1 -a -s "$img" -a ! -e "$img.new"
	stop_daemon
else
	for i in 1 2 3 4 5 6 7 8 9 10; do n=$((n + 1)); echo "ok $n - initramfs manifest # SKIP $collector is not built"; done
fi

# --- crashcapctl: start / stop / restart / reload, list, showmem, estimate, test ----
RUN=("$ctl")
d=$(fresh reserved daemon-hotplug daemon-dumps)
printf 'target = LABEL=crashdump\npath = /\n' >>"$d/etc/crashcap.conf"
run --root "$d" start
check "start without a daemon: loads once, and says hotplug is not watched" '$rc $(cat $tmp/out $tmp/err)' \
	test "$rc" = 0 -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1 -a "$(grep -c "crashcapd is not running: memory and CPU hotplug will not reload it" "$tmp/out")" = 1
run --root "$d" showmem --json
check "showmem --json: reserved, the image, used and free" '$(cat $tmp/out $tmp/err)' \
	"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["reserved"] == 256 << 20 and j["loaded"] and j["image"]["kernel_init_size"] == 48 << 20, j; assert j["used"] == (48 << 20) + 4096 + (1 << 20) and j["free"] == j["reserved"] - j["used"], j' "$tmp/out"
run --root "$d" showmem
check "showmem text" '$(cat $tmp/out)' grep -qE "^Free: +207\.0 MiB for the crash kernel to run in" "$tmp/out"
run --root "$d" estimate --json
check "estimate --json: kernel, initramfs, collector measured in the last dump, proposal 96M" '$(cat $tmp/out $tmp/err)' \
	"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); p={x["name"]: x["bytes"] for x in j["parts"]}; assert p["crash kernel"] == 48 << 20 and p["collector"] == 22 << 20 and p["kernel at run"] == 16 << 20, p; assert j["crashkernel"] == "96M" and j["proposal"] == 96 << 20 and j["reserved"] == 256 << 20, j' "$tmp/out"
run --root "$d" estimate
check "estimate prints its reasoning and the proposal" '$(cat $tmp/out)' \
	grep -qF "Proposed: crashkernel=96M (rounded up to 16 MiB)" "$tmp/out"
check "... and the measured collector" '$(cat $tmp/out)' \
	grep -qF "its peak, measured in the crash kernel for 2025-03-12-10:00:00-6.1.0-18-amd64" "$tmp/out"
run --root "$d" list
check "list: six dumps, oldest first, with state and panic line" '$(cat $tmp/out $tmp/err)' \
	test "$rc" = 0 -a "$(sed -n 2p "$tmp/out" | tr -s ' ')" = "2025-01-10 08:00:00 6.1.0-13-amd64 20.0 KiB complete sysrq triggered crash" -a "$(grep -c '' "$tmp/out")" = 9
run --root "$d" list --json
check "list --json" '$(cat $tmp/out $tmp/err)' \
	"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); s=[d["state"] for d in j["dumps"]]; assert s == ["complete","incomplete","complete","failed","unfinished","incomplete"], s; assert j["dumps"][2]["panic_message"] == "Oops: general protection fault"' "$tmp/out"
run --root "$d" list --dir "$d/nowhere"
check "list --dir of an empty place" '$(cat $tmp/out)' grep -qF "no dumps in $d/nowhere" "$tmp/out"
printf 'target = LABEL=unmounted\n' >"$tmp/unmounted.conf"
run --root "$d" --config "$tmp/unmounted.conf" list
check "list with the target not mounted: what to do" '$(cat $tmp/err)' \
	grep -qF "crashcapctl: the dump target LABEL=unmounted is not mounted on this system: mount it, or pass --dir DIR" "$tmp/err"
run --root "$d" dmesg "$d/mnt/dumps/crashcap/2025-03-12-10:00:00-6.1.0-18-amd64"
check "dmesg of a file that is no dump" '$rc $(cat $tmp/err)' \
	grep -qF "is not a dump crashcap can read (ELF vmcore or kdump-compressed)" "$tmp/err"
run dmesg "$d/mnt/dumps/crashcap/2025-03-12-10:00:00-6.1.0-18-amd64-2"
check "dmesg of a dump folder without a vmcore" '$(cat $tmp/err)' grep -qF "holds no vmcore: is it a dump folder?" "$tmp/err"
printf 'hotplug_quiet = soon\n' >>"$d/etc/crashcap.conf"
before=$(calls "$d")
run --root "$d" reload
check "reload with a bad setting: file:line, exit 1, no syscall" '$rc $(cat $tmp/err)' \
	test "$rc" = 1 -a "$(calls "$d")" = "$before" -a "$(grep -c "$d/etc/crashcap.conf:9: hotplug_quiet must be" "$tmp/err")" = 1
sed -i '/hotplug_quiet = soon/d' "$d/etc/crashcap.conf"
run --root "$d" reload
check "reload without a daemon: loads again, with the gap" '$(cat $tmp/out $tmp/err)' \
	grep -qE "last reload without a crash kernel for [0-9.]+ ms" "$tmp/out"
run --root "$d" test
check "test without --yes-crash-this-machine: refused" '$(cat $tmp/err)' \
	test "$rc" = 1 -a "$(grep -c "run crashcapctl test --yes-crash-this-machine" "$tmp/err")" = 1 -a ! -e "$d/proc/sysrq-trigger"
: >"$d/proc/sysrq-trigger"
run --root "$d" test --yes-crash-this-machine
check "test --yes-crash-this-machine writes c to ROOT/proc/sysrq-trigger" '$(cat $tmp/out $tmp/err)' \
	test "$rc" = 0 -a "$(cat "$d/proc/sysrq-trigger")" = c
run --root "$d" stop
check "stop without a daemon: unloads" '$(cat $tmp/out $tmp/err)' \
	test "$rc" = 0 -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 0
: >"$d/proc/sysrq-trigger"
run --root "$d" test --yes-crash-this-machine
check "test with nothing loaded: refused, nothing written" '$(cat $tmp/err)' \
	test "$rc" = 1 -a ! -s "$d/proc/sysrq-trigger"
# With a daemon running, the verbs talk to it.
start_daemon "$d"
run --root "$d" start
check "start with crashcapd running: says so" '$(cat $tmp/out)' grep -qF "crashcapd is running already (pid $dpid)" "$tmp/out"
run --root "$d" reload
wait_until 'test "$(state "$d" reloads)" = 1'
check "reload with crashcapd running: SIGHUP to it" '$(cat $tmp/out $d/d.err)' \
	test "$(grep -c "asked crashcapd (pid $dpid) to reload" "$tmp/out")" = 1 -a "$(state "$d" reloads)" = 1
run --root "$d" restart
check "restart: crashcapd stopped, then a direct load" '$(cat $tmp/out $tmp/err)' \
	test "$rc" = 0 -a "$(grep -c "crashcapd (pid $dpid) stopped" "$tmp/out")" = 1 -a "$(cat "$d/sys/kernel/kexec_crash_loaded")" = 1
kill -0 "$dpid" 2>/dev/null
check "... and the daemon is gone" '' test $? != 0

# --- bad start -------------------------------------------------------------------
d=$(fresh no-reservation)
"$daemon" --root "$d" >"$tmp/d.out" 2>"$tmp/d.err"
drc=$?
check "no reservation: exit 1 with the crashkernel= hint, nothing loaded" '$(cat $tmp/d.err)' \
	test "$drc" = 1 -a "$(grep -c 'no memory is reserved for a crash kernel' "$tmp/d.err")" = 1
"$daemon" --root "$d" --hotplug-source sometimes >"$tmp/d.out" 2>"$tmp/d.err"
drc=$?
check "bad --hotplug-source: exit 1 with the choices" '$(cat $tmp/d.err)' \
	test "$drc" = 1 -a "$(grep -c "hotplug-source must be auto, udev or kernel, got 'sometimes'" "$tmp/d.err")" = 1
CRASHCAP_FAKE_SYSCALLS=1 "$daemon" >"$tmp/d.out" 2>"$tmp/d.err"
drc=$?
check "fake syscalls forced without a fixture root: refused" '$(cat $tmp/d.err)' \
	test "$drc" = 1 -a "$(grep -c 'pass --root DIR with a fixture tree' "$tmp/d.err")" = 1

cli_done
