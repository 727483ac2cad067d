#!/bin/busybox sh
# /init of the FIRST kernel in test-kexec-reboot.py (test scaffolding, runs
# only inside the QEMU guest): a crash load that only kexec_load can do
# (load_method auto falls back), then a kernel for a kexec reboot loaded with
# --reboot-kernel --method segments, and the kexec reboot into it.
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp

say() { echo "CRASHCAP-TEST: $*"; }
give_up() { # the guest must end, never hang: isa-debug-exit ends QEMU
	say "FAILED: $*"
	printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}

say "first kernel up $(uname -r), $(grep MemTotal /proc/meminfo | tr -s ' ')"
# Does the running kernel's own loader take the image? (It frees nothing: none is loaded yet.)
kexec-helper file-probe /vmlinuz-no4g
crashcapctl load --kernel /vmlinuz-no4g --initrd /initrd-crash
rc=$?
say "load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ $rc = 0 ] || give_up "crashcapctl load exited with $rc"
crashcapctl status --json >/tmp/status.json
say "status-json $(tr -d '\n' </tmp/status.json)"

crashcapctl load --reboot-kernel --method segments --kernel /vmlinuz-next --initrd /initrd-next \
	--append crashcap.kexec_test=1
rc=$?
say "reboot load rc=$rc kexec_loaded=$(cat /sys/kernel/kexec_loaded)"
[ $rc = 0 ] || give_up "crashcapctl load --reboot-kernel exited with $rc"
say "kexec reboot now"
kexec-helper reboot
give_up "still alive after reboot(LINUX_REBOOT_CMD_KEXEC)"
