#!/bin/busybox sh
# make bench's guest (runs only inside the QEMU guest's first kernel, as
# /workload.sh, before the panic): a realistic mix of memory for the
# collectors to race on, then the kernel's counters on the serial console.
#
#   page cache   program and module bytes (compressible, as binaries are)
#                written to /dev/vdb (the raw-copy disk, overwritten later
#                by the crash kernel), dropped and read back; a process
#                keeps the disk open, since the last close of a block
#                device drops its page cache
#   tmpfs        text: copies of /proc/kallsyms
#   anonymous    memhog: random bytes in transparent huge pages, and pages
#                it zeroed; shells holding text in their heap
#   free         the rest
say() { echo "CRASHCAP-TEST: $*"; }
W=/workload

while read -r m; do
	insmod "$W/$m" || say "insmod $m failed"
done <"$W/modules"
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vdb ] || say "workload: no /dev/vdb"
sleep 100000 </dev/vdb &

i=0
while [ $i -lt 10 ]; do
	cat /bin/busybox /usr/sbin/crashcapctl /initrd-crash /vmlinuz "$W"/*.ko "$W/memhog"
	i=$((i + 1))
done | dd of=/dev/vdb bs=1M 2>/dev/null
sync
echo 1 >/proc/sys/vm/drop_caches
dd if=/dev/vdb of=/dev/null bs=1M count=320 2>/dev/null
say "page cache: $(sed -n 's/^Buffers: *//p' /proc/meminfo) in buffers"

mkdir -p /mnt/tmpfs
mount -t tmpfs tmpfs /mnt/tmpfs
cat /proc/kallsyms >/mnt/tmpfs/k0
for i in 1 2 3 4 5 6 7 8; do cat /mnt/tmpfs/k0; done >/mnt/tmpfs/kallsyms
say "tmpfs: $(du -k /mnt/tmpfs | tail -1)"

for i in 1 2 3 4; do
	sh -c 'x=$(cat /mnt/tmpfs/k0 /mnt/tmpfs/k0); sleep 100000' &
done
"$W/memhog" 900 64 0 /tmp/memhog.ready &
i=0
while [ ! -e /tmp/memhog.ready ] && [ $i -lt 900 ]; do sleep 0.2; i=$((i + 1)); done
[ -e /tmp/memhog.ready ] && say "memhog ready" || say "workload: memhog not ready"

sync
sleep 1
sed 's/^/CRASHCAP-MEMINFO: /' /proc/meminfo
sed 's/^/CRASHCAP-VMSTAT: /' /proc/vmstat
say "counters printed"
