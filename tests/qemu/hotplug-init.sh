#!/bin/busybox sh
# /init of the FIRST kernel in crashcap's memory hotplug QEMU test (runs only
# inside the guest): crashcapd keeps the crash kernel loaded (no udev here:
# it reads the kernel's uevents), the host hot-adds DIMMs through QMP when
# asked, this script onlines the new blocks, waits for the daemon to settle,
# then panics the guest. "CRASHCAP-TEST:" lines are for the host.
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /var/lib/crashcap

say() { echo "CRASHCAP-TEST: $*"; }
oneline() { tr -d '\n' <"$1"; }
give_up() {
	say "FAILED: $*"
	sleep 1
	printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}
state() { grep "\"$1\"" /run/crashcap/daemon.json 2>/dev/null | sed 's/.*: *\([^,]*\),*$/\1/'; }
ram() { grep "System RAM" /proc/iomem | grep -v "^ " | tr '\n' ';'; }
blocks() { ls -d /sys/devices/system/memory/memory* | wc -l; }

say "first kernel up"
for f in memory cpu; do
	v=absent
	[ -e /sys/devices/system/$f/crash_hotplug ] && v=$(cat /sys/devices/system/$f/crash_hotplug)
	say "crash_hotplug-before $f=$v"
done
crashcapd &
dpid=$!
i=0
while [ "$(state loaded)" != true ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(state loaded)" = true ] && rc=0 || rc=1
say "load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ "$(state loaded)" = true ] || give_up "crashcapd loaded nothing"
for f in memory cpu; do
	v=absent
	[ -e /sys/devices/system/$f/crash_hotplug ] && v=$(cat /sys/devices/system/$f/crash_hotplug)
	say "crash_hotplug $f=$v"
done
say "daemon-json $(oneline /run/crashcap/daemon.json)"
say "iomem-before $(ram)"
say "crash-range $(grep 'Crash kernel' /proc/iomem | head -n1 | sed 's/^ *//')"
before=$(blocks)
say "blocks-before $before"

# Loaded: the host hot-adds two 512 MiB DIMMs now, one after the other.
say "hotplug now"
i=0
while [ $(($(blocks) - before)) -lt 8 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
say "blocks added $(($(blocks) - before))"
n=0
for s in /sys/devices/system/memory/memory*/state; do
	if [ "$(cat "$s")" = offline ]; then
		echo online >"$s" && n=$((n + 1))
	fi
done
say "onlined $n"
say "online-blocks $(grep -l online /sys/devices/system/memory/memory*/state | wc -l) of $(blocks)"
# The burst ends after hotplug_quiet (2 s); then a reload (or none) follows.
i=0
while [ "$(state hotplug_bursts)" = 0 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 4
say "daemon-json $(oneline /run/crashcap/daemon.json)"
say "iomem-after $(ram)"
grep MemTotal /proc/meminfo | sed 's/^/CRASHCAP-TEST: meminfo /'
say "loaded-after $(cat /sys/kernel/kexec_crash_loaded)"

echo 1 >/proc/sys/kernel/sysrq
say "panic now"
sleep 1 # the serial line drains first: the panic's printk would cut into it
echo c >/proc/sysrq-trigger
give_up "still alive after sysrq-trigger"
