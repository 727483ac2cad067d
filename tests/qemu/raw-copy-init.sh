#!/bin/busybox sh
# Test scaffolding appended to crashcap's crash initramfs (runs only inside
# the QEMU guest's crash kernel): copy /proc/vmcore raw to the second disk,
# so the host has the very memory crashcap dumped, then hand PID 1 to
# crashcap-collect exactly as the real /init would run.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "$m" 2>/dev/null
done </etc/crashcap/modules
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "CRASHCAP-TEST: raw copy of /proc/vmcore ($(stat -c %s /proc/vmcore) bytes) to /dev/vdb"
dd if=/proc/vmcore of=/dev/vdb bs=1M 2>/dev/null && sync
echo "CRASHCAP-TEST: raw copy done rc=$?"
umount /proc /sys /dev 2>/dev/null
exec /sbin/crashcap-collect
