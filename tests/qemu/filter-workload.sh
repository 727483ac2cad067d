#!/bin/busybox sh
# Test scaffolding (runs only inside the QEMU guest's first kernel, as
# /workload.sh from guest-init.sh, before the panic) for the page-filter
# tests test-filter-6.1.py and test-filter-6.12.py: memory of every kind the
# dump levels tell apart, then the kernel's own counters on the serial
# console, the last thing before the panic.
#
#   page cache   a disk (/dev/vdb, the raw-copy disk the crash kernel
#                overwrites later) written (buffer heads: private data),
#                read back after dropping caches, and read where it holds
#                only zeros
#   tmpfs        a file on a tmpfs mount
#   user         memhog: anonymous memory (THPs), anonymous pages of zeros
#   hugetlb      a small hugetlbfs pool, partly mapped by memhog
#   free         what is left
say() { echo "CRASHCAP-TEST: $*"; }
# a block device's page cache counts as Buffers, a file's as Cached
cached_kb() { awk '/^(Buffers|Cached):/ { s += $2 } END { print s }' /proc/meminfo; }
W=/workload

while read -r m; do
	insmod "$W/$m" || say "insmod $m failed"
done <"$W/modules"
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vdb ] || say "workload: no /dev/vdb"
# The last close of a block device drops its page cache: keep it open.
sleep 100000 </dev/vdb &

sync
echo 3 >/proc/sys/vm/drop_caches
before=$(cached_kb)
"$W/memhog" --fill 64 | dd of=/dev/vdb bs=1M 2>/dev/null
sync
echo 1 >/proc/sys/vm/drop_caches
dd if=/dev/vdb of=/dev/null bs=1M count=64 2>/dev/null
"$W/memhog" --fill 32 | dd of=/dev/vdb bs=1M seek=64 2>/dev/null
sync
dd if=/dev/vdb of=/dev/null bs=1M skip=128 count=32 2>/dev/null
after=$(cached_kb)
say "page cache: Buffers+Cached $before kB -> $after kB"

mkdir -p /mnt/tmpfs
mount -t tmpfs tmpfs /mnt/tmpfs
"$W/memhog" --fill 32 >/mnt/tmpfs/file

echo 4 >/proc/sys/vm/nr_hugepages
"$W/memhog" 300 16 4 /tmp/memhog.ready &
i=0
while [ ! -e /tmp/memhog.ready ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
[ -e /tmp/memhog.ready ] && say "memhog ready" || say "workload: memhog not ready"

sync
sleep 1
sed 's/^/CRASHCAP-MEMINFO: /' /proc/meminfo
sed 's/^/CRASHCAP-VMSTAT: /' /proc/vmstat
say "counters printed"
