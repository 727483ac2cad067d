#!/bin/sh
# Workload of the analyze QEMU test (runs only inside the guest, as
# /workload.sh before the panic): load the test's modules, start the marker
# tasks, then print what the host compares `crashcapctl analyze` with:
# each marker's /proc/PID/stat, uname, ps, /proc/modules and, last of all
# (nothing runs between it and the panic), /proc/meminfo.
say() { echo "CRASHCAP-TEST: $*"; }

for m in $(cat /workload/modules); do
	insmod "/workload/$m" || say "insmod $m failed"
done
/workload/markers &
i=0
while [ ! -e /tmp/markers.done ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e /tmp/markers.done ] || say "markers did not start"
# The zombie's exit settles, and the kernel folds its per-CPU counters (every second).
sleep 2
for pid in $(cat /tmp/markers.pids); do
	say "stat $(cat /proc/$pid/stat)"
done
say "uname $(uname -r) $(uname -n)"
ps -o pid,ppid,stat,rss,comm 2>/dev/null | while read -r l; do say "ps $l"; done
while read -r l; do say "modules $l"; done </proc/modules
sleep 2
while read -r l; do say "meminfo $l"; done </proc/meminfo
