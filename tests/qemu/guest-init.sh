#!/bin/busybox sh
# /init of the FIRST kernel in crashcap's QEMU tests (test scaffolding, runs
# only inside the guest): load the crash kernel with crashcapctl, show its
# status, then panic the guest with sysrq. Lines starting "CRASHCAP-TEST:"
# are what the host-side harness waits for.
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp
. /etc/crashcap-test.env

say() { echo "CRASHCAP-TEST: $*"; }
give_up() { # the guest must end, never hang: isa-debug-exit ends QEMU
	say "FAILED: $*"
	printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}

say "first kernel up"
say "reservation $(cat /sys/kernel/kexec_crash_size) bytes"
say "memtotal before load $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
grep "Crash kernel" /proc/iomem | sed 's/^ */CRASHCAP-TEST: crash range /'
crashcapctl load --kernel /vmlinuz --initrd /initrd-crash ${CRASH_APPEND:+--append "$CRASH_APPEND"} $LOAD_ARGS
rc=$?
say "load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ $rc = 0 ] || give_up "crashcapctl load exited with $rc"
crashcapctl status
say "status rc=$?"
crashcapctl status --json >/tmp/status.json
say "status-json $(tr -d '\n' </tmp/status.json)"

# Memory of every kind for the dump to hold: a file in tmpfs (shared),
# some page cache, and anonymous memory of a running process.
dd if=/dev/urandom of=/tmp/random bs=1M count=16 2>/dev/null
sleep 600 &
# A test's own steps before the panic (memory hotplug, say).
if [ -x /workload.sh ]; then
	/workload.sh
	say "workload rc=$?"
fi

echo 1 >/proc/sys/kernel/sysrq
say "panic now"
echo c >/proc/sysrq-trigger
give_up "still alive after sysrq-trigger"
