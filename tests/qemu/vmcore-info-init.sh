#!/bin/busybox sh
# Test scaffolding appended to crashcap's crash initramfs (runs only inside
# the QEMU guest's crash kernel): print what the crash kernel was given
# (its command line, its memory map, the ELF headers of /proc/vmcore) on
# the serial console for the host to check, then hand PID 1 to
# crashcap-collect exactly as the real /init would run.
/bin/busybox --install -s /bin
mount -t proc proc /proc
# Kernel messages would land in the middle of these lines: quiet for now.
read -r level _ </proc/sys/kernel/printk
echo 1 >/proc/sys/kernel/printk
echo "CRASHCAP-TEST: crash cmdline $(cat /proc/cmdline)"
# What the crash kernel itself took, before the collector runs (per-CPU cost).
echo "CRASHCAP-TEST: crash meminfo $(grep -E '^(MemTotal|MemFree|MemAvailable|Slab|KernelStack|Percpu):' /proc/meminfo | tr -s ' \n' ' ')"
grep -E "System RAM|Crash kernel|ACPI|Reserved" /proc/iomem | sed 's/^/CRASHCAP-TEST: crash iomem /'
echo "CRASHCAP-TEST: vmcore size $(stat -c %s /proc/vmcore)"
# Which memory blocks the crash kernel uses: hot-added ones must stay offline.
mount -t sysfs sysfs /sys
online=
for b in /sys/devices/system/memory/memory*; do
	[ "$(cat "$b/state" 2>/dev/null)" = online ] && online="$online ${b##*/memory}"
done
echo "CRASHCAP-TEST: crash memory blocks online:$online"
echo "CRASHCAP-TEST: crash cpus online $(cat /sys/devices/system/cpu/online)"
umount /sys
# The ELF header and program headers, 64 bytes a line: "vmcore-head LINE HEX".
i=0
head -c 4096 /proc/vmcore | hexdump -v -e '64/1 "%02x" "\n"' | while read -r hex; do
	echo "CRASHCAP-TEST: vmcore-head $i $hex"
	i=$((i + 1))
done
echo "$level" >/proc/sys/kernel/printk
umount /proc
exec /sbin/crashcap-collect
