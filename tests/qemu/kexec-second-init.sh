#!/bin/busybox sh
# /init of the kernel that test-kexec-reboot.py's first kernel kexec-reboots
# into (test scaffolding, runs only inside the QEMU guest): say what it got,
# then load a crash image whose purgatory holds a wrong digest, and panic:
# the purgatory must refuse and end QEMU, and no crash kernel may start.
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "CRASHCAP-TEST: $*"; }
give_up() {
	say "FAILED: $*"
	printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}

say "second kernel up $(uname -r)"
say "second cmdline $(cat /proc/cmdline)"
say "second $(grep MemTotal /proc/meminfo | tr -s ' ')"
grep "Crash kernel" /proc/iomem | sed 's/^ */CRASHCAP-TEST: second crash range /'

kexec-helper corrupt-load /vmlinuz-crash /initrd-never "console=ttyS0 nr_cpus=1 panic=1" 1
rc=$?
say "corrupt load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ $rc = 0 ] || give_up "corrupt-load exited with $rc"
echo 1 >/proc/sys/kernel/sysrq
say "panic now"
# The serial driver sends what init wrote after write() returns; a panic at
# once can cut the markers above short (seen: "CRASHCAP-TEST: c" and then the
# panic). Give the port a second to drain.
sleep 1
echo c >/proc/sysrq-trigger
give_up "still alive after sysrq-trigger"
