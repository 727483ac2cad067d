#!/bin/busybox sh
# /init of the FIRST kernel in crashcap's hotplug QEMU test (runs only inside
# the guest). crashcapd keeps the crash kernel loaded (no udev here: it reads
# the kernel's uevents); kexec_crash_loaded is polled from its READY on.
# Then, each time the host is asked through a "... now" line:
#   1. two 512 MiB DIMMs hot-added; the new blocks onlined;
#   2. a CPU hot-added and onlined;
#   3. a storm: one 4 GiB DIMM (32 blocks) hot-added, all onlined at once;
#   4. a reload the kernel refuses after freeing the old image (an initrd
#      that passes crashcap's checks but not the kernel's placement);
# then the guest panics. "CRASHCAP-TEST:" lines are for the host.
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
crash_hotplug() {
	for f in memory cpu; do
		v=absent
		[ -e /sys/devices/system/$f/crash_hotplug ] && v=$(cat /sys/devices/system/$f/crash_hotplug)
		say "crash_hotplug$1 $f=$v"
	done
}
online_all() {
	n=0
	for s in /sys/devices/system/memory/memory*/state; do
		if [ "$(cat "$s")" = offline ]; then
			echo online >"$s" && n=$((n + 1))
		fi
	done
	echo $n
}
# Waits until the burst count moved past $1 and then stays for the quiet period.
settle() {
	i=0
	while [ "$(state hotplug_bursts)" -le "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 4
}
# Samples kexec_crash_loaded every 10 ms; logs each change with the uptime.
poll() {
	last=1
	while [ ! -e /tmp/stop-poll ]; do
		read -r v </sys/kernel/kexec_crash_loaded
		if [ "$v" != "$last" ]; then
			read -r up _ </proc/uptime
			echo "$up $v" >>/tmp/poll.log
			last=$v
		fi
		usleep 10000
	done
	read -r up _ </proc/uptime
	echo "$up end" >>/tmp/poll.log
}

say "first kernel up"
crash_hotplug -before
crashcapd &
i=0
while [ "$(state loaded)" != true ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
poll &
[ "$(state loaded)" = true ] && rc=0 || rc=1
say "load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ $rc = 0 ] || give_up "crashcapd loaded nothing"
crash_hotplug ""
say "daemon-json-start $(oneline /run/crashcap/daemon.json)"
say "iomem-before $(ram)"
say "crash-range $(grep 'Crash kernel' /proc/iomem | head -n1 | sed 's/^ *//')"

# 1. Two DIMMs.
before=$(blocks)
bursts=$(state hotplug_bursts)
say "hotplug now"
i=0
while [ $(($(blocks) - before)) -lt 8 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
say "blocks added $(($(blocks) - before))"
say "onlined $(online_all)"
say "online-blocks $(grep -l online /sys/devices/system/memory/memory*/state | wc -l) of $(blocks)"
settle "$bursts"
say "daemon-json-dimms $(oneline /run/crashcap/daemon.json)"
say "iomem-after $(ram)"

# 2. A CPU, when the kernel allows one more (6.12 sees no hotpluggable
# CPU in this QEMU's ACPI tables: "plus 0 hotplug CPUs").
cpus=$(cat /sys/devices/system/cpu/present)
if [ "$(cat /sys/devices/system/cpu/possible)" = "$cpus" ]; then
	say "cpu hotplug impossible: possible CPUs $(cat /sys/devices/system/cpu/possible)"
else
	bursts=$(state hotplug_bursts)
	say "cpu hotplug now"
	i=0
	while [ ! -e /sys/devices/system/cpu/cpu1/online ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	echo 1 >/sys/devices/system/cpu/cpu1/online
	say "cpus present $cpus -> $(cat /sys/devices/system/cpu/present) online $(cat /sys/devices/system/cpu/online)"
	settle "$bursts"
fi
say "daemon-json-cpu $(oneline /run/crashcap/daemon.json)"

# 3. The storm: 32 blocks added at once, then all onlined at once.
before=$(blocks)
bursts=$(state hotplug_bursts)
say "storm now"
i=0
while [ $(($(blocks) - before)) -lt 32 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
say "storm blocks added $(($(blocks) - before))"
say "storm onlined $(online_all)"
settle "$bursts"
say "daemon-json-storm $(oneline /run/crashcap/daemon.json)"
say "iomem-storm $(ram)"
say "loaded-after-storm $(cat /sys/kernel/kexec_crash_loaded)"

# 4. A reload the kernel refuses after freeing the loaded image: the initrd
# fits the reservation by crashcap's reckoning (kernel init_size + initrd),
# not with the boot data and alignment the kernel adds.
size=$(cat /sys/kernel/kexec_crash_size)
init=$(sed -n 's/.*"kernel_init_size": \([0-9]*\).*/\1/p' /run/crashcap/loaded.json)
big=$(( (size - (init + 4095) / 4096 * 4096 - 64 * 1024) / 4096 * 4096 ))
dd if=/dev/zero of=/tmp/big-initrd bs=4096 count=$((big / 4096)) 2>/dev/null
cp /etc/crashcap.conf /tmp/good.conf
sed -i 's|^initrd = .*|initrd = /tmp/big-initrd|' /etc/crashcap.conf
reloads=$(state reloads)
kill -HUP "$(state pid)"
i=0
while [ "$(state reloads)" = "$reloads" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
say "bad-reload initrd=$big loaded=$(cat /sys/kernel/kexec_crash_loaded)"
say "daemon-json-bad $(oneline /run/crashcap/daemon.json)"
cp /tmp/good.conf /etc/crashcap.conf
rm -f /tmp/big-initrd
kill -HUP "$(state pid)"
i=0
while [ "$(state reloads)" = "$((reloads + 1))" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
touch /tmp/stop-poll
sleep 0.5
say "poll $(tr '\n' ';' </tmp/poll.log)"
say "daemon-json-end $(oneline /run/crashcap/daemon.json)"
say "loaded-after $(cat /sys/kernel/kexec_crash_loaded)"

echo 1 >/proc/sys/kernel/sysrq
say "panic now"
sleep 1 # the serial line drains first: the panic's printk would cut into it
echo c >/proc/sysrq-trigger
give_up "still alive after sysrq-trigger"
